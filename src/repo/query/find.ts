/**
 * `find`: entries of snapshot trees that match globs and filters, newest snapshot first, yielded as they are
 * found (an AsyncIterable: a query over thousands of snapshots never holds its results). Trees are read
 * through `Repository.readBlob`, hence through the local cache: a second query reads no tree from the
 * repository.
 */
import { UsageError } from '../../errors.js';
import type { Repository } from '../repository.js';
import { globMatcher } from '../snapshot/glob.js';
import type { SnapshotRef } from '../snapshot/snapshots.js';
import type { TreeNode } from '../snapshot/tree.js';
import { snapshotPath, walkTree } from '../snapshot/walker.js';
import { type SnapshotQuery, selectSnapshots } from './filters.js';
import { nodeAt } from './node-at.js';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'stream';

export interface FindQuery extends SnapshotQuery {
  /** Globs as in `--exclude`, matched against the path and its last component; none: everything. */
  patterns?: readonly string[];
  ignoreCase?: boolean;
  kinds?: readonly EntryKind[];
  /** Only entries at or below this path of the snapshot (`/etc`). */
  path?: string;
  /** Size bounds in bytes (files and streams; directories and symlinks never pass a size bound). */
  minSize?: number;
  maxSize?: number;
  /** Stop after this many matches. */
  limit?: number;
  signal?: AbortSignal;
}

export interface FindMatch {
  snapshot: SnapshotRef;
  /** Path inside the snapshot, with a leading slash. */
  path: string;
  kind: EntryKind;
  node: TreeNode;
}

export function kindOf(node: TreeNode): EntryKind {
  return node.type === 'file' && node.stream !== undefined ? 'stream' : node.type;
}

const KINDS: readonly EntryKind[] = ['file', 'dir', 'symlink', 'stream'];

export function parseKinds(list: readonly string[]): EntryKind[] {
  for (const k of list) {
    if (!(KINDS as readonly string[]).includes(k)) throw new UsageError(`--kind: "${k}" is not one of ${KINDS.join(', ')}`);
  }
  return list as EntryKind[];
}

function entryFilter(q: FindQuery): (path: string, node: TreeNode) => boolean {
  const patterns = (q.patterns ?? []).map((p) => p.replace(/^\/+/, ''));
  const glob = patterns.length > 0 ? globMatcher(patterns, { ignoreCase: q.ignoreCase === true }) : () => true;
  const kinds = q.kinds !== undefined && q.kinds.length > 0 ? new Set(q.kinds) : undefined;
  const sized = q.minSize !== undefined || q.maxSize !== undefined;
  return (path, node) => {
    if (kinds !== undefined && !kinds.has(kindOf(node))) return false;
    if (sized) {
      if (node.type !== 'file') return false;
      if (q.minSize !== undefined && node.size < q.minSize) return false;
      if (q.maxSize !== undefined && node.size > q.maxSize) return false;
    }
    return glob(path);
  };
}

/** Matching entries of one snapshot, in walk order. */
export async function* findInSnapshot(repo: Repository, ref: SnapshotRef, q: FindQuery): AsyncGenerator<FindMatch> {
  const accept = entryFilter(q);
  const within = snapshotPath(q.path ?? '');
  await repo.loadIndex();
  let subtree = ref.snapshot.tree;
  if (within !== '') {
    const node = await nodeAt(repo, ref.snapshot.tree, within);
    if (node === undefined) return;
    if (accept(within, node)) yield { snapshot: ref, path: `/${within}`, kind: kindOf(node), node };
    if (node.type !== 'dir') return;
    subtree = node.subtree;
  }
  for await (const item of walkTree(repo, subtree, within)) {
    q.signal?.throwIfAborted();
    if (accept(item.path, item.node)) yield { snapshot: ref, path: `/${item.path}`, kind: kindOf(item.node), node: item.node };
  }
}

/** Matching entries of every selected snapshot, newest snapshot first. */
export async function* findEntries(repo: Repository, q: FindQuery): AsyncGenerator<FindMatch> {
  const refs = await selectSnapshots(repo, q);
  let left = q.limit ?? Number.POSITIVE_INFINITY;
  if (left <= 0) return;
  for (const ref of refs) {
    for await (const match of findInSnapshot(repo, ref, q)) {
      yield match;
      left -= 1;
      if (left <= 0) return;
    }
  }
}
