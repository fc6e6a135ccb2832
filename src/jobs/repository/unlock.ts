/** Removing locks left behind by processes that are gone. */
import { type LockInfo, removeLocks } from '../../repo/lock.js';
import type { Repository } from '../../repo/repository.js';

/**
 * Removes stale locks (not refreshed for 30 minutes, or held by a process of this host that no longer
 * runs); with `all`, every lock, live ones too. Returns the locks removed.
 */
export function unlock(repo: Repository, options: { all?: boolean } = {}): Promise<LockInfo[]> {
  return removeLocks(repo, options.all === true);
}
