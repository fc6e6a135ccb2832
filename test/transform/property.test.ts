/**
 * Properties (fast-check): decode(encode(x)) = x for zstd, LZ4 and age whatever the content, its length
 * relative to the block and chunk sizes, and how the producer splits the bytes on either side; the
 * ordered map keeps order and its window.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { AgeDecryptor } from '../../src/transform/age/decrypt.js';
import { createAgeEncryptor } from '../../src/transform/age/encrypt.js';
import { createCompressor } from '../../src/transform/compress.js';
import { createDecoder } from '../../src/transform/decode.js';
import { BlockPool, orderedMap } from '../../src/transform/pool/block-pool.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { collect, compressibleBytes, cutAt } from './helpers.js';

const BLOCK = 64 << 10;
const pool = new BlockPool({ threads: 2 });
const zstd = createCompressor({ algorithm: 'zstd', blockBytes: BLOCK, pool, level: 3 });
const lz4 = createCompressor({ algorithm: 'lz4', blockBytes: BLOCK, pool });
const decoder = await createDecoder({ decompress: true, decrypt: false, decompressThreads: 2 });
const encryptor = createAgeEncryptor({ passphrase: 'property', scryptLogN: 10, pool });
const decryptor = new AgeDecryptor({ passphrases: ['property'], pool });
after(async () => {
  await pool.close();
  await Promise.all(decoder.pools.map((p) => p.close()));
});

/** Content whose length lands near block and chunk boundaries, compressible, random or both. */
const content = fc
  .record({
    length: fc.oneof(
      fc.integer({ min: 0, max: 3 * BLOCK + 100 }),
      fc.constantFrom(0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 16 * 64 * 1024 - 1, 16 * 64 * 1024 + 1),
    ),
    kind: fc.constantFrom('text', 'random', 'zeros', 'mixed'),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .map(({ length, kind, seed }) => {
    if (kind === 'text') return compressibleBytes(length, seed);
    if (kind === 'random') return pseudoRandomBytes(length, seed);
    if (kind === 'zeros') return Buffer.alloc(length);
    const half = Math.floor(length / 2);
    return Buffer.concat([compressibleBytes(half, seed), pseudoRandomBytes(length - half, seed + 1)]);
  });
const cuts = fc.array(fc.integer({ min: 1, max: 4 * BLOCK }), { maxLength: 12 });

for (const [name, compressor] of [
  ['zstd', zstd],
  ['lz4', lz4],
] as const) {
  test(`${name}: decompress(compress(x)) = x across block boundaries and any chunking`, async () => {
    await fc.assert(
      fc.asyncProperty(content, cuts, cuts, async (data, inCuts, outCuts) => {
        const packed = await collect(compressor.compress(cutAt(data, inCuts)));
        const name = `f${compressor.suffix}`;
        const back = await collect(decoder.decode(cutAt(packed, outCuts), name, decoder.plan(name)));
        assert.equal(back.length, data.length);
        assert.ok(back.equals(data));
      }),
      { numRuns: 30 },
    );
  });
}

test('age: decrypt(encrypt(x)) = x across chunk and batch boundaries and any chunking', async () => {
  await fc.assert(
    fc.asyncProperty(content, cuts, cuts, async (data, inCuts, outCuts) => {
      const sealed = await collect(encryptor.encrypt(cutAt(data, inCuts)));
      const back = await collect(decryptor.decrypt(cutAt(sealed, outCuts), 'f.age'));
      assert.ok(back.equals(data));
    }),
    { numRuns: 30 },
  );
});

test('orderedMap yields in input order and never has more than its window outstanding', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), async (delays, window) => {
      let outstanding = 0;
      let peak = 0;
      async function* source(): AsyncGenerator<number> {
        for (let i = 0; i < delays.length; i++) yield i;
      }
      const out: number[] = [];
      for await (const v of orderedMap(source(), window, async (i) => {
        outstanding += 1;
        peak = Math.max(peak, outstanding);
        await new Promise((r) => setTimeout(r, delays[i]));
        outstanding -= 1;
        return i * 10;
      })) {
        out.push(v);
      }
      assert.deepEqual(out, delays.map((_, i) => i * 10));
      assert.ok(peak <= window);
    }),
    { numRuns: 40 },
  );
});

test('orderedMap reports the first failure in stream order after the results before it', async () => {
  async function* source(): AsyncGenerator<number> {
    for (let i = 0; i < 10; i++) yield i;
  }
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const v of orderedMap(source(), 4, async (i) => {
      await new Promise((r) => setTimeout(r, 10 - i));
      if (i === 3 || i === 5) throw new Error(`job ${i}`);
      return i;
    })) {
      seen.push(v);
    }
  }, /job 3/);
  assert.deepEqual(seen, [0, 1, 2]);
});
