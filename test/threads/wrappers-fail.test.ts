/** The thread wrappers built on WorkerChannel reject what is in flight when their threads go, instead of hanging. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockPool } from '../../src/transform/pool/block-pool.js';
import { pseudoRandomBytes } from '../helpers/tree.js';

/** The promise's outcome, or 'hung' when it has not settled within 10 s. */
async function outcome(p: Promise<unknown>): Promise<string> {
  return Promise.race([
    p.then(() => 'resolved', (err: Error) => `rejected: ${err.message}`),
    new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 10_000).unref()),
  ]);
}

test('codec pool: jobs running on a worker when the pool closes are rejected', async () => {
  const pool = new BlockPool({ threads: 1 });
  // slow enough to be still running when the pool closes: 8 MiB at zstd's highest level
  const running = outcome(pool.run({ kind: 'zstd-compress', level: 19, input: pseudoRandomBytes(8 << 20, 3) }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  await pool.close();
  assert.equal(await running, 'rejected: the codec pool was closed');
});
