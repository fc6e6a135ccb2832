/** Tree nodes of what the archiver stores: metadata, and the chunk ids of stored content. */
import { toHex } from '../../crypto/blob-id.js';
import type { SavedStream } from '../../content/stream-saver.js';
import type { ContentWriter } from '../../content/content-writer.js';
import { type FileNode, INLINE_CHUNKS, LIST_IDS, type NodeBase } from '../tree.js';

export interface DirMeta {
  mode: number;
  mtimeMs: number;
  uid?: number;
  gid?: number;
}

/** What the archiver counts as it goes (read by progress displays while it works). */
export interface ArchiveProgress {
  files: number;
  dirs: number;
  bytes: number;
  reusedFiles: number;
  currentPath: string;
}

export function nodeBase(name: string, meta: DirMeta): NodeBase {
  const base: NodeBase = { name, mode: meta.mode & 0o7777, mtime: meta.mtimeMs };
  if (meta.uid !== undefined) base.uid = meta.uid;
  if (meta.gid !== undefined) base.gid = meta.gid;
  return base;
}

/** The last component of a snapshot path. */
export { baseNameOf as baseName } from '../../../entry.js';

/** A stored file's chunk ids: inline when few, else in content-list blobs of LIST_IDS ids each. */
export async function contentRef(session: ContentWriter, saved: SavedStream): Promise<Pick<FileNode, 'content' | 'contentLists'>> {
  const ids: string[] = [];
  for (let i = 0; i < saved.chunks; i++) ids.push(toHex(saved.ids.subarray(i * 32, (i + 1) * 32)));
  if (saved.chunks <= INLINE_CHUNKS) return { content: ids };
  const lists: string[] = [];
  for (let i = 0; i < saved.chunks; i += LIST_IDS) {
    lists.push(await session.saveTree(saved.ids.subarray(i * 32, Math.min(saved.chunks, i + LIST_IDS) * 32)));
  }
  return { contentLists: lists };
}

/** The file node of stored content. */
export async function fileNode(session: ContentWriter, name: string, meta: DirMeta, saved: SavedStream): Promise<FileNode> {
  return { ...nodeBase(name, meta), type: 'file', size: saved.size, sha256: saved.sha256, ...(await contentRef(session, saved)) };
}
