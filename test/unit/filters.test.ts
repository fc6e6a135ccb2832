import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ThreadedDigest } from '../../src/filter/threaded-digest.js';
import { throttle } from '../../src/filter/throttle.js';
import { parseSize } from '../../src/cli/units.js';

async function* chunks(sizes: number[]): AsyncGenerator<Uint8Array> {
  for (const n of sizes) yield Buffer.alloc(n, 1);
}

test('throttle delays each piece until its share of the rate is due, in pieces of 1/20 s', async () => {
  let clock = 0;
  const waits: number[] = [];
  const limit = throttle(100_000, {
    now: () => clock,
    sleep: async (ms) => {
      waits.push(Math.round(ms));
      clock += ms;
    },
  });
  const sizes: number[] = [];
  for await (const piece of limit(chunks([12_000, 3_000]))) sizes.push(piece.length);
  assert.deepEqual(sizes, [5000, 5000, 2000, 3000]);
  // 100 kB/s: the second piece is due at 50 ms, the third at 100 ms, the fourth at 120 ms.
  assert.deepEqual(waits, [50, 50, 20]);
  assert.equal(clock, 120);
});

test('the threaded digest hashes exactly the bytes passed on, across its 4 MiB transfer buffers', async () => {
  const sizes = [10, 0, 1000, 5 * 1024 * 1024, 3 * 1024 * 1024 + 7, 16 * 1024 * 1024];
  const digest = new ThreadedDigest('sha256', 2);
  const expected = createHash('sha256');
  let total = 0;
  for await (const c of digest.filter(chunks(sizes))) {
    expected.update(c);
    total += c.length;
  }
  assert.equal(total, sizes.reduce((a, b) => a + b, 0));
  assert.equal(digest.bytes, total);
  assert.equal(await digest.hex(), expected.digest('hex'));
});

test('sizes take binary K/M/G suffixes and refuse nonsense', () => {
  assert.equal(parseSize('10M', '--throttle'), 10 * 1024 * 1024);
  assert.equal(parseSize('512k', '--throttle'), 512 * 1024);
  assert.equal(parseSize('1.5G', '--throttle'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('4096', '--throttle'), 4096);
  assert.throws(() => parseSize('fast', '--throttle'), /not a size/);
  assert.throws(() => parseSize('-1M', '--throttle'), /not a size/);
});
