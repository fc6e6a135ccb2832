/**
 * Stores the member files of a physical backup stream (mariabackup's xbstream, pg_basebackup's tar) as
 * the files of one snapshot, under a root directory (`/mariadb`, `/postgres`), in whatever order the
 * stream sends them, and commits the snapshot.
 *
 * The directory archiver (`repo/snapshot/archiver.ts`) wants entries depth first, as a directory walk
 * yields them; a backup stream interleaves directories (`ibdata1`, `db1/t.ibd`, `backup-my.cnf`, ...),
 * so this keeps every listing in memory (names and ids only, never content) and writes the tree blobs
 * at the end, deepest first. Content goes through the same write session as any file, so each member
 * is chunked and deduplicated on its own: an unchanged table's file costs nothing the next night.
 *
 * Nothing is visible before `commit` (packs, then indexes, then the snapshot object); a caller that
 * fails half way calls `session.abandon()` and no snapshot exists.
 */
import { type SafePath, parentOf } from '../../entry.js';
import { UsageError } from '../../errors.js';
import { toHex } from '../../repo/crypto/blob-id.js';
import type { SavedStream } from '../../repo/content/stream-saver.js';
import type { ContentWriter } from '../../repo/content/content-writer.js';
import type { Repository } from '../../repo/repository.js';
import { type Snapshot, writeSnapshot } from '../../repo/snapshot/snapshots.js';
import { encodeTree, type FileNode, INLINE_CHUNKS, LIST_IDS, type NodeBase, type TreeNode } from '../../repo/snapshot/tree.js';

export interface MemberMeta {
  mode: number;
  mtimeMs: number;
  uid?: number;
  gid?: number;
}

interface Dir {
  meta: MemberMeta | undefined;
  dirs: Map<string, Dir>;
  leaves: Map<string, TreeNode>;
}

export interface MemberProgress {
  files: number;
  bytes: number;
}

const newDir = (meta?: MemberMeta): Dir => ({ meta, dirs: new Map(), leaves: new Map() });

function nodeBase(name: string, meta: MemberMeta): NodeBase {
  const base: NodeBase = { name, mode: meta.mode & 0o7777, mtime: meta.mtimeMs };
  if (meta.uid !== undefined) base.uid = meta.uid;
  if (meta.gid !== undefined) base.gid = meta.gid;
  return base;
}

export class MemberArchiver {
  readonly #repo: Repository;
  readonly #session: ContentWriter;
  readonly #top = newDir();
  readonly #startedAt = Date.now();
  readonly progress: MemberProgress = { files: 0, bytes: 0 };
  #dirs = 0;
  #symlinks = 0;

  constructor(repo: Repository, session: ContentWriter) {
    this.#repo = repo;
    this.#session = session;
  }

  /** Stores one file at `path` (relative to the snapshot root, e.g. `mariadb/db1/t.ibd`). */
  async addFile(path: SafePath, meta: MemberMeta, content: AsyncIterable<Uint8Array>): Promise<FileNode> {
    const node = await this.storeFile(path, meta, content);
    this.placeFile(path, node);
    return node;
  }

  /** Stores a file's content without listing it yet (`placeFile` lists it). */
  async storeFile(path: SafePath, meta: MemberMeta, content: AsyncIterable<Uint8Array>): Promise<FileNode> {
    const saved = await this.#save(content);
    const name = path.slice(path.lastIndexOf('/') + 1);
    return { ...nodeBase(name, meta), type: 'file', size: saved.size, sha256: saved.sha256, ...(await this.#contentRef(saved)) };
  }

  /** Lists a stored file; a file of the same name listed earlier is replaced (the stream re-created it). */
  placeFile(path: SafePath, node: FileNode): void {
    const dir = this.#dir(parentOf(path) ?? '');
    if (dir.dirs.has(node.name)) throw new UsageError(`the backup stream holds "${path}" as both a file and a directory`);
    if (!dir.leaves.has(node.name)) this.progress.files += 1;
    dir.leaves.set(node.name, node);
  }

  /** Removes a file or directory (a remove chunk); false when there is none. */
  remove(path: SafePath): boolean {
    const dir = this.#existingDir(parentOf(path) ?? '');
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (dir === undefined) return false;
    if (dir.leaves.delete(name)) {
      this.progress.files -= 1;
      return true;
    }
    return dir.dirs.delete(name);
  }

  /** Renames a file or directory (a rename chunk), replacing what the new name held; false when there is nothing to rename. */
  rename(from: SafePath, to: SafePath): boolean {
    const source = this.#existingDir(parentOf(from) ?? '');
    const oldName = from.slice(from.lastIndexOf('/') + 1);
    const leaf = source?.leaves.get(oldName);
    const subdir = source?.dirs.get(oldName);
    if (source === undefined || (leaf === undefined && subdir === undefined)) return false;
    this.remove(to);
    const target = this.#dir(parentOf(to) ?? '');
    const newName = to.slice(to.lastIndexOf('/') + 1);
    if (leaf !== undefined) {
      source.leaves.delete(oldName);
      target.leaves.set(newName, { ...leaf, name: newName });
    } else {
      source.dirs.delete(oldName);
      target.dirs.set(newName, subdir as Dir);
    }
    return true;
  }

  addDir(path: SafePath, meta: MemberMeta): void {
    this.#dir(path).meta = meta;
  }

  addSymlink(path: SafePath, meta: MemberMeta, target: string): void {
    const name = path.slice(path.lastIndexOf('/') + 1);
    this.#place(path, { ...nodeBase(name, meta), type: 'symlink', target });
    this.#symlinks += 1;
  }

  /** Writes the trees, flushes packs and indexes, then the snapshot object (last). */
  async commit(meta: Omit<Snapshot, 'tree' | 'summary'>): Promise<{ id: string; snapshot: Snapshot }> {
    const tree = await this.#writeDir(this.#top);
    await this.#session.flush();
    const stats = this.#session.writer.stats;
    const snapshot: Snapshot = {
      ...meta,
      tree,
      summary: {
        files: this.progress.files,
        dirs: this.#dirs,
        symlinks: this.#symlinks,
        bytes: this.progress.bytes,
        newBytes: stats.dataBytes,
        storedBytes: stats.storedBytes,
        durationMs: Date.now() - this.#startedAt,
      },
    };
    return { id: await writeSnapshot(this.#repo, snapshot), snapshot };
  }

  async #writeDir(dir: Dir): Promise<string> {
    const nodes: TreeNode[] = [...dir.leaves.values()];
    for (const [name, child] of dir.dirs) {
      const subtree = await this.#writeDir(child);
      nodes.push({ ...nodeBase(name, child.meta ?? { mode: 0o750, mtimeMs: this.#startedAt }), type: 'dir', subtree });
      this.#dirs += 1;
    }
    return this.#session.saveTree(encodeTree(nodes));
  }

  #dir(path: string): Dir {
    let dir = this.#top;
    if (path === '') return dir;
    for (const part of path.split('/')) {
      if (dir.leaves.has(part)) throw new UsageError(`"${path}" is both a file and a directory in the backup stream`);
      let next = dir.dirs.get(part);
      if (next === undefined) dir.dirs.set(part, (next = newDir()));
      dir = next;
    }
    return dir;
  }

  #existingDir(path: string): Dir | undefined {
    let dir: Dir | undefined = this.#top;
    if (path === '') return dir;
    for (const part of path.split('/')) dir = dir?.dirs.get(part);
    return dir;
  }

  #place(path: SafePath, node: TreeNode): void {
    const dir = this.#dir(parentOf(path) ?? '');
    if (dir.leaves.has(node.name) || dir.dirs.has(node.name)) throw new UsageError(`the backup stream holds "${path}" twice`);
    dir.leaves.set(node.name, node);
  }

  /** Small members (most meta files) are read whole and stored as one chunk; others stream. */
  async #save(content: AsyncIterable<Uint8Array>): Promise<SavedStream> {
    const limit = this.#repo.config.chunker.min;
    const pieces: Uint8Array[] = [];
    let have = 0;
    const iterator = content[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      pieces.push(Uint8Array.from(next.value));
      have += next.value.length;
      this.progress.bytes += next.value.length;
      if (have > limit) {
        const rest = { [Symbol.asyncIterator]: () => iterator };
        return this.#session.saveStream(
          (async function* () {
            yield* pieces;
            yield* rest;
          })(),
          (n) => {
            this.progress.bytes += n;
          },
        ).then((saved) => {
          // the pieces read ahead were counted already
          this.progress.bytes -= have;
          return saved;
        });
      }
    }
    return this.#session.saveSmall(pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces));
  }

  async #contentRef(saved: SavedStream): Promise<Pick<FileNode, 'content' | 'contentLists'>> {
    const ids: string[] = [];
    if (saved.chunks <= INLINE_CHUNKS) {
      for (let i = 0; i < saved.chunks; i++) ids.push(toHex(saved.ids.subarray(i * 32, (i + 1) * 32)));
      return { content: ids };
    }
    const lists: string[] = [];
    for (let i = 0; i < saved.chunks; i += LIST_IDS) {
      lists.push(await this.#session.saveTree(saved.ids.subarray(i * 32, Math.min(saved.chunks, i + LIST_IDS) * 32)));
    }
    return { contentLists: lists };
  }
}
