/** Restoring a snapshot (or a subtree of it) into a directory. */
import type { Repository } from '../../repo/repository.js';
import { type RestoreStats, restoreTree } from '../../repo/snapshot/restore.js';
import type { SnapshotRef } from '../../repo/snapshot/snapshots.js';
import { withCryptoPool } from './crypto-pool.js';
import { resolveRef } from './ref.js';

export interface RestoreOptions {
  /** Directory to restore into (created if missing). */
  target: string;
  /** With `latest`: the newest snapshot of this host. */
  host?: string;
  /** Paths (relative to the restored root) to restore, with everything below them; all when empty. */
  include?: readonly string[];
  /** Replace files that already exist in the target (default: refuse). */
  overwrite?: boolean;
  /** Chunks fetched and decrypted at once (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called once a file is complete and verified under its name. */
  onFile?: (path: string, bytes: number) => void;
}

export interface RestoreResult extends RestoreStats {
  snapshot: SnapshotRef;
}

/**
 * Restores `snapshot` (`ID[:PATH]` or `latest[:PATH]`; a path restores that subtree, re-rooted) into
 * `options.target`. Paths are checked before anything is written: nothing goes outside the target and
 * nothing through a symlink; each file is verified (chunk ids, length, SHA-256) before it gets its name.
 */
export async function restore(repo: Repository, snapshot: string, options: RestoreOptions): Promise<RestoreResult> {
  const { ref, node } = await resolveRef(repo, snapshot, options.host === undefined ? {} : { host: options.host });
  const stats = await withCryptoPool(repo, (pool) =>
    restoreTree(repo, pool, node, options.target, {
      include: options.include ?? [],
      overwrite: options.overwrite === true,
      concurrency: options.concurrency ?? 8,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onFile === undefined ? {} : { onFile: options.onFile }),
    }),
  );
  return { snapshot: ref, ...stats };
}
