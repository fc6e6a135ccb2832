/**
 * Questions over the snapshots of an open repository: which entries match a glob (`find`), and every
 * version of one path (`history`). Both yield results as they are found (never collected) and read trees
 * through the repository's cache. `matchJson` is the JSON form the CLI and the web UI share.
 */
import { type EntryKind, type FindMatch, type FindQuery, findEntries, parseKinds } from '../../repo/query/find.js';
import { type SnapshotQuery, parseTimeBound } from '../../repo/query/filters.js';
import { type HistoryQuery, pathHistory, type PathVersion, type VersionChange } from '../../repo/query/history.js';
import { matchJson } from '../../repo/query/json.js';
import type { Repository } from '../../repo/repository.js';

export { matchJson, parseKinds, parseTimeBound };
export type { EntryKind, FindMatch, FindQuery, HistoryQuery, PathVersion, SnapshotQuery, VersionChange };

/** The entries of the snapshots `query` selects (newest snapshot first) that match its globs, kinds and sizes. */
export function findInSnapshots(repo: Repository, query: FindQuery): AsyncGenerator<FindMatch> {
  return findEntries(repo, query);
}

/** Every version of `path` in the snapshots `query` selects, newest first, each marked against the next older one. */
export function historyOf(repo: Repository, path: string, query: HistoryQuery = {}): AsyncGenerator<PathVersion> {
  return pathHistory(repo, path, query);
}
