/** The worker threads that decrypt and verify blobs for a repository's read and maintenance jobs. */
import type { Repository } from '../../repo/repository.js';
import { CryptoPool } from '../../repo/workers/crypto-pool.js';

/** Two sealer threads: enough to keep reads and repacks ahead of the store without taking every core. */
const SEALERS = 2;

/** A pool set up with the repository's keys; the caller closes it. */
export function cryptoPoolFor(repo: Repository): CryptoPool {
  return new CryptoPool({ setup: { keys: repo.workerKeys }, sealers: SEALERS });
}

/** Runs `work` with a pool of the repository's keys, closed when it settles. */
export async function withCryptoPool<T>(repo: Repository, work: (pool: CryptoPool) => Promise<T>): Promise<T> {
  const pool = cryptoPoolFor(repo);
  try {
    return await work(pool);
  } finally {
    await pool.close();
  }
}
