/**
 * XXH32: the native path (the `lz4` package's C library) and the JavaScript reference agree on every
 * input, chunking, seed and kind of buffer (views at offsets, SharedArrayBuffer-backed), and both match
 * published vectors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Xxh32, xxh32, Xxh32Reference } from '../../src/transform/checksum/xxh32.js';

test('published vectors', () => {
  assert.equal(xxh32(new Uint8Array(0)), 0x02cc5d05);
  assert.equal(new Xxh32Reference().update(new Uint8Array(0)).digest(), 0x02cc5d05);
  assert.equal(xxh32(Buffer.from('abc')), 0x32d153ff);
  assert.equal(new Xxh32Reference().update(Buffer.from('abc')).digest(), 0x32d153ff);
});

test('native and JavaScript agree on any bytes, chunking, seed and buffer kind', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 5000 }),
      fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 7 }),
      fc.boolean(),
      (bytes, cuts, seed, offset, shared) => {
        const backing = shared ? new SharedArrayBuffer(bytes.length + offset + 3) : new ArrayBuffer(bytes.length + offset + 3);
        const view = new Uint8Array(backing, offset, bytes.length);
        view.set(bytes);
        const want = new Xxh32Reference(seed).update(bytes).digest();
        assert.equal(xxh32(view, seed), want);
        const streamed = new Xxh32(seed);
        for (let at = 0, i = 0; at < view.length; at += cuts[i % cuts.length] as number, i++) {
          streamed.update(view.subarray(at, at + (cuts[i % cuts.length] as number)));
        }
        assert.equal(streamed.digest(), want);
        assert.equal(streamed.digest(), want, 'digest does not reset the state');
      },
    ),
    { numRuns: 300 },
  );
});
