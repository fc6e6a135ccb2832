/**
 * zstd and LZ4: sluice's files decode with the stock `zstd`/`lz4` CLIs and the CLIs' files decode with
 * sluice, across block boundaries, frame variants and chunkings; damaged files fail naming file and offset.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IntegrityError } from '../../src/errors.js';
import { createCompressor } from '../../src/transform/compress.js';
import { createDecoder } from '../../src/transform/decode.js';
import { ok, run, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { chunks, collect, compressibleBytes, sluiceError } from './helpers.js';

const BLOCK = 64 << 10;
const zstdc = createCompressor({ algorithm: 'zstd', threads: 2, blockBytes: BLOCK });
const lz4c = createCompressor({ algorithm: 'lz4', threads: 2, blockBytes: BLOCK });
const decoder = await createDecoder({ decompress: true, decrypt: false, decompressThreads: 2 });
after(async () => {
  await Promise.all([zstdc.pool.close(), lz4c.pool.close(), ...decoder.pools.map((p) => p.close())]);
});

function decode(bytes: Uint8Array, name: string, chunkSize = 7777): Promise<Buffer> {
  return collect(decoder.decode(chunks(bytes, chunkSize), name, decoder.plan(name)));
}

/** Sizes around the block size, with compressible and incompressible content. */
const SAMPLES: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from('x')],
  ['block - 1', compressibleBytes(BLOCK - 1, 2)],
  ['exactly one block', compressibleBytes(BLOCK, 3)],
  ['block + 1', compressibleBytes(BLOCK + 1, 4)],
  ['3.5 blocks mixed', Buffer.concat([compressibleBytes(BLOCK * 2, 5), pseudoRandomBytes(BLOCK + BLOCK / 2, 6)])],
  ['random 2 blocks', pseudoRandomBytes(BLOCK * 2, 7)],
];

for (const [algorithm, compressor, unpack] of [
  ['zstd', zstdc, (f: string) => `zstd -q -d -c ${f}`],
  ['lz4', lz4c, (f: string) => `lz4 -q -d -c ${f}`],
] as const) {
  describe(`${algorithm}: sluice writes, the stock CLI reads`, () => {
    for (const [label, data] of SAMPLES) {
      test(label, async (t) => {
        const dir = await tempDir(t);
        const file = join(dir, `x${compressor.suffix}`);
        const packed = await collect(compressor.compress(chunks(data, 10_000)));
        await writeFile(file, packed);
        const back = ok(await sh(unpack(file)), `${algorithm} -d`).stdout;
        assert.equal(back.length, data.length);
        assert.ok(back.equals(data), 'stock decoder output equals the input');
        assert.ok((await decode(packed, `x${compressor.suffix}`)).equals(data), 'sluice decodes its own output');
        // one frame per started block: the file is a concatenation of standard frames
        const frames = Math.max(1, Math.ceil(data.length / BLOCK));
        const magic = algorithm === 'zstd' ? Buffer.from([0x28, 0xb5, 0x2f, 0xfd]) : Buffer.from([0x04, 0x22, 0x4d, 0x18]);
        assert.ok(packed.subarray(0, 4).equals(magic));
        if (label.startsWith('random')) {
          // incompressible input grows by no more than the framing
          const perFrame = algorithm === 'zstd' ? 18 + 3 * Math.ceil(BLOCK / (128 << 10)) + 4 : 15 + 4 + 8;
          assert.ok(packed.length <= data.length + frames * perFrame, `${packed.length} bytes for ${data.length}`);
        }
      });
    }
  });
}

describe('zstd: the stock CLI writes, sluice reads', () => {
  const data = Buffer.concat([compressibleBytes(150_000, 11), pseudoRandomBytes(50_000, 12)]);
  const variants: [string, string][] = [
    ['zstd -3 (one frame with its size)', 'zstd -q -3 -c raw'],
    ['streamed through a pipe (no content size)', 'cat raw | zstd -q -c'],
    ['zstd -T2 --long', 'zstd -q -T2 --long=20 -c raw'],
    ['without checksum', 'zstd -q --no-check -c raw'],
    ['two frames concatenated', '(zstd -q -c raw; zstd -q -c raw)'],
  ];
  for (const [label, command] of variants) {
    test(label, async (t) => {
      const dir = await tempDir(t);
      await writeFile(join(dir, 'raw'), data);
      const packed = ok(await sh(command, { cwd: dir }), command).stdout;
      const expected = label.startsWith('two') ? Buffer.concat([data, data]) : data;
      assert.ok((await decode(packed, 'x.zst')).equals(expected));
      assert.ok((await decode(packed, 'x.zst', 61)).equals(expected), 'fed in 61-byte pieces');
    });
  }

  test('a skippable frame between two frames is skipped', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'raw'), data);
    const frame = ok(await sh('zstd -q -c raw', { cwd: dir })).stdout;
    const skippable = Buffer.alloc(8 + 5);
    skippable.writeUInt32LE(0x184d2a53, 0);
    skippable.writeUInt32LE(5, 4);
    assert.ok((await decode(Buffer.concat([frame, skippable, frame]), 'x.zst')).equals(Buffer.concat([data, data])));
  });

  test('a frame larger than one job streams in bounded pieces (a 64 MiB bomb of zeros)', async () => {
    const packed = ok(await sh('head -c 67108864 /dev/zero | zstd -q -c')).stdout;
    assert.ok(packed.length < 64 << 10, 'the input is tiny');
    let total = 0;
    let largest = 0;
    for await (const piece of decoder.decode(chunks(packed), 'bomb.zst', ['zstd'])) {
      total += piece.length;
      largest = Math.max(largest, piece.length);
      assert.ok(piece.every((b) => b === 0) || piece.length === 0);
    }
    assert.equal(total, 64 << 20);
    assert.ok(largest <= 4 << 20, `pieces stay small (largest ${largest})`);
  });

  test('with a size cap, the bomb is refused as soon as it passes the cap', async () => {
    const capped = await createDecoder({ decompress: true, decrypt: false, maxDecodedBytes: 10 << 20 });
    const packed = ok(await sh('head -c 67108864 /dev/zero | zstd -q -c')).stdout;
    let seen = 0;
    const err = await sluiceError(async () => {
      for await (const piece of capped.decode(chunks(packed), 'bomb.zst', ['zstd'])) seen += piece.length;
    });
    await Promise.all(capped.pools.map((p) => p.close()));
    assert.equal(err.code, 'E_DECODED_TOO_LARGE');
    assert.equal(err.where.path, 'bomb.zst');
    assert.ok(seen <= 10 << 20, `${seen} bytes came out before the refusal`);
  });

  test('a large frame with a content size (17 MiB) decodes through the streaming path', async () => {
    const piece = compressibleBytes(1 << 20, 13);
    const big = Buffer.concat(Array.from({ length: 17 }, (_, i) => (i % 4 === 3 ? pseudoRandomBytes(1 << 20, i) : piece)));
    const packed = ok(await run('zstd', ['-q', '-1', '-c'], { input: big })).stdout;
    const piped = ok(await sh('zstd -q -1 -c', { input: big })).stdout;
    assert.ok((await decode(packed, 'x.zst', 1 << 20)).equals(big));
    assert.ok((await decode(piped, 'x.zst', 1 << 20)).equals(big));
  });
});

describe('lz4: the stock CLI writes, sluice reads', () => {
  const data = Buffer.concat([compressibleBytes(200_000, 21), pseudoRandomBytes(80_000, 22)]);
  const variants: [string, string[]][] = [
    ['default (4 MiB blocks, content checksum)', []],
    ['linked blocks (-BD)', ['-BD', '-B4']],
    ['64 KiB blocks with block checksums', ['-B4', '-BX']],
    ['content size, no content checksum', ['--content-size', '--no-frame-crc']],
    ['256 KiB blocks, level 9', ['-B5', '-9']],
  ];
  for (const [label, args] of variants) {
    test(label, async () => {
      const packed = ok(await run('lz4', ['-q', '-c', ...args], { input: data }), `lz4 ${args.join(' ')}`).stdout;
      assert.ok((await decode(packed, 'x.lz4')).equals(data));
      assert.ok((await decode(packed, 'x.lz4', 61)).equals(data), 'fed in 61-byte pieces');
    });
  }

  test('the legacy format (lz4 -l) is refused with a clear message', async () => {
    const packed = ok(await run('lz4', ['-q', '-l', '-c'], { input: data })).stdout;
    const err = await sluiceError(() => decode(packed, 'x.lz4'));
    assert.equal(err.code, 'E_LZ4_LEGACY');
    assert.equal(err.where.path, 'x.lz4');
  });
});

describe('damaged compressed files fail, naming the file and the offset', () => {
  const data = compressibleBytes(5 * BLOCK + 123, 31);
  let zst: Buffer;
  let lz4: Buffer;
  before(async () => {
    zst = await collect(zstdc.compress(chunks(data)));
    lz4 = await collect(lz4c.compress(chunks(data)));
  });

  test('a .zst that is not zstd', async () => {
    const err = await sluiceError(() => decode(Buffer.from('just some text, not zstd at all\n'), 'notes.txt.zst'));
    assert.equal(err.code, 'E_ZSTD_MAGIC');
    assert.equal(err.where.path, 'notes.txt.zst');
    assert.equal(err.where.offset, 0);
    assert.match(err.message, /not zstd data/);
  });

  test('a flipped bit inside the third zstd frame', async (t) => {
    // find the third frame: frames are independent, so walk our own sizes via the stock tool
    const frames: number[] = [];
    for (let at = zst.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])); at >= 0; at = zst.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), at + 1)) frames.push(at);
    assert.ok(frames.length >= 6);
    const bad = Buffer.from(zst);
    const target = (frames[2] as number) + 40;
    bad[target] = (bad[target] as number) ^ 0x10;
    const err = await sluiceError(() => decode(bad, 'db/t.ibd.zst'));
    assert.equal(err.where.path, 'db/t.ibd.zst');
    assert.match(err.message, /zstd frame 3/);
    assert.ok(err.where.offset !== undefined && err.where.offset <= target && err.where.offset >= (frames[2] as number));
    // and the stock tool agrees the file is damaged
    const dir = await tempDir(t);
    await writeFile(join(dir, 'bad.zst'), bad);
    assert.notEqual((await sh(`zstd -q -t ${dir}/bad.zst`)).status, 0);
  });

  test('a zstd file cut short', async () => {
    const err = await sluiceError(() => decode(zst.subarray(0, zst.length - 10), 'x.zst'));
    assert.equal(err.code, 'E_TRUNCATED');
    assert.equal(err.where.path, 'x.zst');
  });

  test('garbage after the last zstd frame', async () => {
    const err = await sluiceError(() => decode(Buffer.concat([zst, Buffer.from('junk')]), 'x.zst'));
    assert.equal(err.code, 'E_ZSTD_MAGIC');
    assert.equal(err.where.offset, zst.length);
  });

  test('a wrong zstd content checksum is an integrity error', async () => {
    const bad = Buffer.from(zst);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff; // the last frame's XXH64 checksum
    const err = await sluiceError(() => decode(bad, 'x.zst'));
    assert.ok(err instanceof IntegrityError);
    assert.equal(err.exitCode, 4);
  });

  test('a wrong LZ4 content checksum', async () => {
    const bad = Buffer.from(lz4);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0x01;
    const err = await sluiceError(() => decode(bad, 'x.lz4'));
    assert.equal(err.code, 'E_LZ4_CHECKSUM');
    assert.equal(err.where.path, 'x.lz4');
  });

  test('a damaged LZ4 frame header (header checksum)', async () => {
    const bad = Buffer.from(lz4);
    bad[6] = (bad[6] as number) ^ 0x01; // content size
    const err = await sluiceError(() => decode(bad, 'x.lz4'));
    assert.equal(err.code, 'E_LZ4_HEADER');
    assert.equal(err.where.offset, 0);
  });

  test('an LZ4 block larger than its frame allows is refused before it is read', async () => {
    const bad = Buffer.from(lz4.subarray(0, 19));
    bad.writeUInt32LE(1 << 30, 15);
    const err = await sluiceError(() => decode(bad, 'x.lz4'));
    assert.equal(err.code, 'E_LZ4_BLOCK');
    assert.equal(err.where.offset, 15);
  });

  test('a damaged LZ4 block', async () => {
    const bad = Buffer.from(lz4);
    for (let i = 100; i < 140; i++) bad[i] = 0xff;
    const err = await sluiceError(() => decode(bad, 'x.lz4'));
    assert.equal(err.where.path, 'x.lz4');
    assert.ok(err.exitCode === 1 || err.exitCode === 4, `a failure status, not ${err.exitCode}`);
    assert.ok(err.where.offset !== undefined && err.where.offset <= 140, `the offset names the damaged block (${err.where.offset})`);
  });

  test('a zstd frame that declares more content than it holds', async () => {
    // sluice frames record their size; patch a frame's 4-byte size field upward
    const one = await collect(zstdc.compress(chunks(compressibleBytes(1000, 41))));
    const fhd = one[4] as number;
    assert.equal(fhd >> 6, 1, 'a 2-byte content size (1000 - 256)');
    const bad = Buffer.from(one);
    bad.writeUInt16LE(2000 - 256, 5);
    const err = await sluiceError(() => decode(bad, 'x.zst'));
    assert.ok(err instanceof IntegrityError, err.message);
  });

  test('random bytes under every suffix never decode silently', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const junk = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(64 + seed * 37)]);
      await sluiceError(() => decode(junk, 'x.zst'));
      const junk4 = Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), randomBytes(64 + seed * 37)]);
      await sluiceError(() => decode(junk4, 'x.lz4'));
    }
  });
});

test('a stock zstd file and a stock lz4 file round-trip through a file on disk', async (t) => {
  const dir = await tempDir(t);
  const data = compressibleBytes(200_000, 51);
  await writeFile(join(dir, 'a'), data);
  ok(await sh('zstd -q a -o a.zst && lz4 -q a a.lz4', { cwd: dir }));
  assert.ok((await decode(await readFile(join(dir, 'a.zst')), 'a.zst')).equals(data));
  assert.ok((await decode(await readFile(join(dir, 'a.lz4')), 'a.lz4')).equals(data));
});
