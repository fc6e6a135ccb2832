/** The JSON form of query results, shared by `find --json`, `history --json` and the web UI's API. */
import { shortId, type SnapshotRef } from '../snapshot/snapshots.js';
import type { TreeNode } from '../snapshot/tree.js';
import { kindOf } from './find.js';

export function snapshotJson(ref: SnapshotRef): Record<string, unknown> {
  const s = ref.snapshot;
  return { id: ref.id, short_id: shortId(ref.id), time: s.time, host: s.host, user: s.user, tags: s.tags, paths: s.paths, streams: s.streams, summary: s.summary, ...(s.parent === undefined ? {} : { parent: s.parent }) };
}

/** A node's metadata (never its chunk ids: clients have no use for them, only their count). */
export function nodeJson(path: string, node: TreeNode): Record<string, unknown> {
  const out: Record<string, unknown> = { path, name: node.name, kind: kindOf(node), type: node.type, mode: node.mode, mtime: new Date(node.mtime).toISOString() };
  if (node.uid !== undefined) out.uid = node.uid;
  if (node.gid !== undefined) out.gid = node.gid;
  if (node.type === 'file') {
    out.size = node.size;
    out.sha256 = node.sha256;
    out.chunks = node.content !== undefined ? node.content.length : undefined;
    out.chunk_lists = node.contentLists?.length;
    if (node.stream !== undefined) out.stream = node.stream;
  } else if (node.type === 'symlink') out.target = node.target;
  return out;
}

export function matchJson(m: { snapshot: SnapshotRef; path: string; node: TreeNode }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { snapshot: m.snapshot.id, short_id: shortId(m.snapshot.id), time: m.snapshot.snapshot.time, host: m.snapshot.snapshot.host, ...extra, ...nodeJson(m.path, m.node) };
}
