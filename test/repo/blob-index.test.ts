import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { BlobIndex } from '../../src/repo/content/blob-index.js';

test('the blob index agrees with a Map on any sequence of adds', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 1e6 })), { maxLength: 600 }), (ops) => {
      const index = new BlobIndex(4);
      const reference = new Map<number, number>();
      const idOf = (n: number) => {
        const id = new Uint8Array(32);
        // Only the last bytes differ, so the hash (first four bytes) collides: probing is exercised.
        id[0] = n & 3;
        id[31] = n & 0xff;
        id[30] = n >> 8;
        return id;
      };
      const pack = index.addPack('p'.repeat(64), 1 << 30);
      for (const [n, offset] of ops) {
        const added = index.add(n % 2 === 0 ? 'data' : 'tree', idOf(n), pack, offset, 10, 20);
        assert.equal(added, !reference.has(n));
        if (!reference.has(n)) reference.set(n, offset);
      }
      assert.equal(index.size, reference.size);
      for (let n = 0; n <= 300; n++) {
        const loc = index.lookup(idOf(n));
        assert.equal(loc?.offset, reference.get(n));
        if (loc !== undefined) assert.equal(loc.type, n % 2 === 0 ? 'data' : 'tree');
      }
    }),
    { numRuns: 50 },
  );
});

test('memory per blob stays under 100 bytes (measured on 200,000 blobs)', () => {
  const index = new BlobIndex();
  const pack = index.addPack('a'.repeat(64), 1);
  const ids = randomBytes(200_000 * 32);
  for (let i = 0; i < 200_000; i++) index.add('data', ids.subarray(i * 32, i * 32 + 32), pack, i, 1, 1);
  const perBlob = index.byteLength / index.size;
  assert.ok(perBlob < 100, `${perBlob.toFixed(1)} bytes per blob`);
  assert.ok(index.has(ids.subarray(32 * 12345, 32 * 12346)));
  assert.ok(!index.has(randomBytes(32)));
});
