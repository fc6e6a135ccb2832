/**
 * `history`: every version of one path across the selected snapshots, newest first, each marked with how
 * it differs from the version in the next older snapshot that had the path.
 */
import type { Repository } from '../repository.js';
import type { SnapshotRef } from '../snapshot/snapshots.js';
import type { TreeNode } from '../snapshot/tree.js';
import { snapshotPath } from '../snapshot/walker.js';
import { kindOf, type EntryKind } from './find.js';
import { type SnapshotQuery, selectSnapshots } from './filters.js';
import { nodeAt } from './node-at.js';

export type VersionChange = 'added' | 'changed' | 'metadata' | 'unchanged';

export interface PathVersion {
  snapshot: SnapshotRef;
  path: string;
  kind: EntryKind;
  node: TreeNode;
  /** Against the next older snapshot holding the path (`added` for the oldest, or after a gap). */
  change: VersionChange;
}

export interface HistoryQuery extends SnapshotQuery {
  /** Only versions whose content differs from the one before (or that appeared). */
  changesOnly?: boolean;
  signal?: AbortSignal;
}

function contentKey(n: TreeNode): string {
  if (n.type === 'file') return `file:${n.sha256}:${n.size}`;
  if (n.type === 'symlink') return `symlink:${n.target}`;
  return `dir:${n.subtree}`;
}

function compare(older: TreeNode | undefined, newer: TreeNode): VersionChange {
  if (older === undefined) return 'added';
  if (contentKey(older) !== contentKey(newer)) return 'changed';
  if (older.mode !== newer.mode || older.mtime !== newer.mtime || older.uid !== newer.uid || older.gid !== newer.gid) return 'metadata';
  return 'unchanged';
}

/**
 * Each snapshot costs one tree read per path component (cached), and only the nodes are kept (one per
 * snapshot that has the path), so the change marks can be computed oldest to newest.
 */
export async function* pathHistory(repo: Repository, rawPath: string, q: HistoryQuery = {}): AsyncGenerator<PathVersion> {
  const path = snapshotPath(rawPath);
  const refs = (await selectSnapshots(repo, q)).reverse();
  await repo.loadIndex();
  const versions: PathVersion[] = [];
  let previous: TreeNode | undefined;
  for (const ref of refs) {
    q.signal?.throwIfAborted();
    const node = await nodeAt(repo, ref.snapshot.tree, path);
    if (node === undefined) {
      previous = undefined;
      continue;
    }
    const change = compare(previous, node);
    previous = node;
    if (q.changesOnly === true && (change === 'unchanged' || change === 'metadata')) continue;
    versions.push({ snapshot: ref, path: `/${path}`, kind: kindOf(node), node, change });
  }
  for (let i = versions.length - 1; i >= 0; i--) yield versions[i] as PathVersion;
}
