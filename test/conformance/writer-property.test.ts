/**
 * Property (fast-check): whatever the files' sizes and contents (incompressible, compressible, zeros,
 * mixed), every writer's block and chunk cutting gives a stream in which each xbstream chunk's CRC is the
 * CRC-32 of its payload computed from scratch here, and every file decodes to its bytes. The pipeline is
 * the backup's own: reader threads into a small recycled BufferPool (whose CRCs the writer takes for
 * untransformed content), the encode chain gathering into the same pool, the container writer, and a
 * sink that gives each chunk back as soon as it is written, so recycled blocks are reused as fast as they
 * can be.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { BufferPool } from '../../src/bytes/buffer-pool.js';
import { writeTar } from '../../src/container/tar/writer.js';
import { writeXbstream } from '../../src/container/xbstream/writer.js';
import { readDirectory } from '../../src/source/dir.js';
import { FileReader } from '../../src/source/file-reader.js';
import { createDecoder } from '../../src/transform/decode.js';
import { createEncodeChain } from '../../src/transform/encode-chain.js';
import { applyToFiles, mapEntries } from '../../src/transform/entry-transform.js';
import { prefetchFiles } from '../../src/transform/prefetch.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { collect, compressibleBytes } from '../transform/helpers.js';

const BLOCK = 64 << 10;
const AGE_BATCH = 2 << 20;
const PASSPHRASE = 'property';

const fileArb = fc.record({
  size: fc.oneof(
    fc.integer({ min: 0, max: 4 * BLOCK + 100 }),
    fc.constantFrom(0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 3 * BLOCK - 1, AGE_BATCH - 1, AGE_BATCH + 1),
  ),
  kind: fc.constantFrom('text', 'random', 'zeros', 'mixed'),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});
const optionsArb = fc.record({
  container: fc.constantFrom('xbstream', 'tar'),
  compress: fc.constantFrom(undefined, 'zstd', 'lz4'),
  encrypt: fc.boolean(),
  parallel: fc.constantFrom(1, 2),
  threads: fc.constantFrom(1, 2),
});

function contentOf(f: { size: number; kind: string; seed: number }): Buffer {
  if (f.kind === 'text') return compressibleBytes(f.size, f.seed);
  if (f.kind === 'random') return pseudoRandomBytes(f.size, f.seed);
  if (f.kind === 'zeros') return Buffer.alloc(f.size);
  const half = Math.floor(f.size / 2);
  return Buffer.concat([pseudoRandomBytes(half, f.seed), compressibleBytes(f.size - half, f.seed + 1)]);
}

/** xbstream parsed from scratch: every P chunk's CRC checked, payloads gathered per path in order. */
function parseXbstream(stream: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer[]>();
  let at = 0;
  let chunk = 0;
  while (at < stream.length) {
    chunk += 1;
    assert.equal(stream.subarray(at, at + 8).toString('latin1'), 'XBSTCK01', `chunk ${chunk}: magic`);
    const type = String.fromCharCode(stream[at + 9] as number);
    const pathLength = stream.readUInt32LE(at + 10);
    const path = stream.subarray(at + 14, at + 14 + pathLength).toString('utf8');
    at += 14 + pathLength;
    const parts = files.get(path) ?? [];
    files.set(path, parts);
    if (type === 'E') continue;
    assert.equal(type, 'P', `chunk ${chunk}: a payload or end chunk`);
    const length = Number(stream.readBigUInt64LE(at));
    const offset = Number(stream.readBigUInt64LE(at + 8));
    const stored = stream.readUInt32LE(at + 16);
    const payload = stream.subarray(at + 20, at + 20 + length);
    assert.equal(offset, parts.reduce((s, p) => s + p.length, 0), `chunk ${chunk} of ${path}: offset follows on`);
    assert.equal(stored, crc32(payload), `chunk ${chunk} of ${path} (offset ${offset}, ${length} bytes): stored CRC = CRC of the payload`);
    parts.push(payload);
    at += 20 + length;
  }
  return new Map([...files].map(([path, parts]) => [path, Buffer.concat(parts)]));
}

/** ustar parsed from scratch (the names here are short: no pax headers). */
function parseTar(stream: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let at = 0;
  while (at + 512 <= stream.length) {
    const header = stream.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156] as number);
    at += 512;
    if (type === '0' || type === '\0') files.set(name, Buffer.from(stream.subarray(at, at + size)));
    at += Math.ceil(size / 512) * 512;
  }
  return files;
}

test('every writer: chunk CRCs are the payloads\' CRCs and every file decodes to its bytes, for any sizes and contents', async (t) => {
  const decoder = await createDecoder({ decompress: true, decrypt: true, age: { identities: [], passphrases: [PASSPHRASE] }, decompressThreads: 2, decryptThreads: 2 });
  t.after(() => Promise.all(decoder.pools.map((p) => p.close())));
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fileArb, { minLength: 1, maxLength: 5 }), optionsArb, async (specs, o) => {
      const dir = await tempDir(t, 'sluice-prop-');
      const expected = new Map<string, Buffer>();
      for (const [i, spec] of specs.entries()) {
        const bytes = contentOf(spec);
        await writeFile(join(dir, `f${run}-${i}`), bytes);
        expected.set(`f${run}-${i}`, bytes);
      }
      run += 1;
      const pool = new BufferPool(BLOCK, 4, true);
      const reader = new FileReader(pool, { threads: 2, readAhead: 1, checksums: o.compress === undefined && !o.encrypt });
      try {
        const transforms = await createEncodeChain({
          buffers: pool,
          ...(o.compress === undefined ? {} : { compress: { algorithm: o.compress, blockBytes: BLOCK, threads: o.threads } }),
          ...(o.encrypt ? { encrypt: { passphrase: PASSPHRASE, scryptLogN: 10, threads: o.threads } } : {}),
        });
        const transformed = mapEntries(readDirectory(dir, { pool, reader, statFiles: o.container === 'tar' }), applyToFiles(transforms));
        const entries = transforms.length > 0 ? prefetchFiles(transformed, { files: 4 }) : transformed;
        // as the stream jobs do: untransformed content keeps the CRCs the reader threads computed
        const knownCrc = transforms.length === 0 ? { knownCrc: reader.crcOf } : {};
        const bytes = o.container === 'xbstream' ? writeXbstream(entries, { parallel: o.parallel, ...knownCrc }) : writeTar(entries, { spoolDirectory: dir });
        const written: Buffer[] = [];
        for await (const chunk of bytes) {
          written.push(Buffer.from(chunk)); // "written": the sink copies, then gives the block back at once
          pool.give(chunk);
        }
        const stream = Buffer.concat(written);
        const files = o.container === 'xbstream' ? parseXbstream(stream) : parseTar(stream);
        const suffix = (o.compress === 'zstd' ? '.zst' : o.compress === 'lz4' ? '.lz4' : '') + (o.encrypt ? '.age' : '');
        assert.deepEqual([...files.keys()].sort(), [...expected.keys()].map((n) => n + suffix).sort());
        for (const [name, want] of expected) {
          const stored = files.get(name + suffix) as Buffer;
          async function* once(): AsyncGenerator<Uint8Array> {
            if (stored.length > 0) yield stored;
          }
          const got = suffix === '' ? stored : await collect(decoder.decode(once(), name + suffix, decoder.plan(name + suffix)));
          assert.ok(got.equals(want), `${name} (${want.length} bytes, ${JSON.stringify(o)}) decodes to its bytes`);
        }
      } finally {
        await reader.close();
      }
    }),
    { numRuns: 30 },
  );
});
