/**
 * The LZ4 block decoder (transform/lz4/block-decode.ts) gives the same bytes as the stock `lz4` CLI:
 * real files (the MariaDB server binary, a copy of the server's system tablespace) compressed by sluice
 * and by `lz4` with independent and linked blocks decode to the original, and `lz4 -dc` of sluice's output
 * is the original too. Blocks from the reference encoder round-trip; damaged blocks fail, never overrun.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { createCompressor } from '../../src/transform/compress.js';
import { createDecoder } from '../../src/transform/decode.js';
import { decodeLz4Block } from '../../src/transform/lz4/block-decode.js';
import { ok, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { chunks, collect, compressibleBytes } from './helpers.js';

const lz4 = createRequire(import.meta.url)('lz4') as { encodeBlock(i: Buffer, o: Buffer): number; encodeBound(n: number): number };
const compressor = createCompressor({ algorithm: 'lz4', threads: 2 });
const decoder = await createDecoder({ decompress: true, decrypt: false, decompressThreads: 2 });
after(async () => {
  await Promise.all([compressor.pool.close(), ...decoder.pools.map((p) => p.close())]);
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const decode = (bytes: Uint8Array): Promise<Buffer> => collect(decoder.decode(chunks(bytes, 1 << 20), 'x.lz4', decoder.plan('x.lz4')));

/** Real files of this machine: the server binary and the first 24 MiB of the system tablespace. */
async function realFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const binary of ['/usr/sbin/mariadbd', '/usr/bin/mariadb']) {
    if (existsSync(binary)) {
      ok(await sh(`cp ${binary} ${dir}/binary`));
      files.push(join(dir, 'binary'));
      break;
    }
  }
  if ((await sh('test -r /var/lib/mysql/ibdata1')).status === 0) {
    ok(await sh(`dd if=/var/lib/mysql/ibdata1 of=${dir}/ibdata1 bs=1M count=24 status=none`));
    files.push(join(dir, 'ibdata1'));
  }
  return files;
}

test('real files: sluice and lz4 -dc agree on every kind of frame, byte for byte', async (t) => {
  const dir = await tempDir(t);
  const files = await realFiles(dir);
  assert.ok(files.length > 0, 'no real file to test on (mariadbd binary or ibdata1)');
  for (const file of files) {
    const original = await readFile(file);
    const want = sha(original);
    const ours = await collect(compressor.compress(chunks(original, 1 << 20)));
    await writeFile(`${file}.sluice.lz4`, ours);
    assert.equal(sha(await decode(ours)), want, `${file}: sluice decodes its own frames`);
    assert.equal(sha(ok(await sh(`lz4 -q -d -c ${file}.sluice.lz4`)).stdout), want, `${file}: lz4 -dc of sluice's output`);
    for (const flags of ['-1', '-1 -B4', '-9 -BD -B4', '-1 -BD -B5 -BX', '-1 -B6']) {
      const stock = ok(await sh(`lz4 -q -c ${flags} ${file}`)).stdout;
      assert.equal(sha(await decode(stock)), want, `${file}: lz4 ${flags} decoded by sluice`);
    }
  }
});

test('blocks from the reference encoder round-trip; the output is exact-size and owned', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 70_000 }), fc.integer({ min: 0, max: 4 }), (raw, repeat) => {
      const input = Buffer.concat([Buffer.from(raw), ...Array.from({ length: repeat }, () => Buffer.from(raw.subarray(0, 3000)))]);
      const packed = Buffer.alloc(lz4.encodeBound(input.length));
      const n = lz4.encodeBlock(input, packed);
      fc.pre(n > 0);
      const out = decodeLz4Block(packed.subarray(0, n), 256 << 10);
      assert.equal(out.length, input.length);
      assert.ok(Buffer.from(out).equals(input));
      assert.equal(out.byteLength, out.buffer.byteLength, 'a copy of its own, not a view of the scratch buffer');
    }),
    { numRuns: 200 },
  );
});

test('a block that decodes past the frame size, or is damaged, fails with a message; with a dictionary too', () => {
  const input = compressibleBytes(200_000, 3);
  const packed = Buffer.alloc(lz4.encodeBound(input.length));
  const n = lz4.encodeBlock(input, packed);
  assert.throws(() => decodeLz4Block(packed.subarray(0, n), 64 << 10), /more than the frame's 65536 bytes/);
  assert.throws(() => decodeLz4Block(packed.subarray(0, n), 64 << 10, new Uint8Array(100)), /passes the frame's 65536 bytes/);
  assert.throws(() => decodeLz4Block(Uint8Array.of(0x0f, 1, 0), 1024, new Uint8Array(0)), /malformed/);
  // an offset reaching before the 4-byte dictionary
  assert.throws(() => decodeLz4Block(Uint8Array.of(0x10, 65, 9, 0, 0x00), 1024, Uint8Array.of(1, 2, 3, 4)), /reaches before the dictionary/);
  // one that reaches into it copies from it
  assert.deepEqual([...decodeLz4Block(Uint8Array.of(0x10, 65, 5, 0, 0x10, 66), 1024, Uint8Array.of(1, 2, 3, 4))], [65, 1, 2, 3, 4, 66]);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.uint8Array({ minLength: 1, maxLength: 100 }), (junk, dictionary) => {
      try {
        assert.ok(decodeLz4Block(junk, 4096, dictionary).length <= 4096);
      } catch (err) {
        assert.ok(err instanceof Error && /byte \d+ of the block|malformed/.test(err.message), String(err));
      }
    }),
    { numRuns: 500 },
  );
});
