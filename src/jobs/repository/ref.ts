/** Naming a snapshot and a path in it: `ID[:PATH]`, `latest[:PATH]`. */
import type { SafePath } from '../../entry.js';
import type { Repository } from '../../repo/repository.js';
import { listSnapshots, resolveSnapshot, type SnapshotFilter, SnapshotNotFoundError, type SnapshotRef, shortId } from '../../repo/snapshot/snapshots.js';
import type { TreeNode } from '../../repo/snapshot/tree.js';
import { findNode, snapshotPath } from '../../repo/snapshot/walker.js';

/** The first 8 hex digits of a snapshot id, as every listing shows it (and as a prefix names it). */
export { shortId };

export interface ResolvedRef {
  ref: SnapshotRef;
  path: SafePath | '';
  node: TreeNode;
}

/** Whether the snapshot holds `path` (absolute inside the snapshot; '' for the root) among its sources. */
function holds(ref: SnapshotRef, path: string): boolean {
  if (path === '') return true;
  const s = ref.snapshot;
  return s.streams.some((n) => `/${n}` === path || path.startsWith(`/${n}/`)) || s.paths.some((d) => d === '/' || path === d || path.startsWith(`${d}/`) || d.startsWith(`${path}/`));
}

/** `3f2a:/etc` → snapshot `3f2a`, path `/etc`; without a colon, no path. */
export function splitRef(text: string): { snapshot: string; path: string | undefined } {
  const colon = text.indexOf(':');
  return colon < 0 ? { snapshot: text, path: undefined } : { snapshot: text.slice(0, colon), path: text.slice(colon + 1) };
}

/**
 * The snapshot and node `text` names (`ID[:PATH]`, `latest[:PATH]`; `extraPath` when it has no `:PATH`).
 * `latest:db.sql` is the newest snapshot that holds db.sql, not merely the newest snapshot. Loads the index.
 */
export async function resolveRef(repo: Repository, text: string, filter: SnapshotFilter = {}, extraPath?: string): Promise<ResolvedRef> {
  const { snapshot, path } = splitRef(text);
  const wanted = path ?? extraPath;
  let all = await listSnapshots(repo);
  if (snapshot === 'latest' && wanted !== undefined) {
    const inside = snapshotPath(wanted);
    all = all.filter((s) => holds(s, inside === '' ? '' : `/${inside}`));
    if (all.length === 0) throw new SnapshotNotFoundError(`latest:${wanted}`, `no snapshot holds /${inside}`);
  }
  const ref = resolveSnapshot(all, snapshot, filter);
  await repo.loadIndex();
  const within = snapshotPath(path ?? extraPath ?? '');
  return { ref, path: within, node: await findNode(repo, ref.snapshot.tree, within) };
}
