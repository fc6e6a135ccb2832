/**
 * Builds one snapshot from any number of directory trees (entries in walk order) and named streams.
 *
 * A directory tree arrives as entries in depth-first order (a directory before its contents, every
 * descendant of a directory before anything outside it). The archiver keeps a stack of open directories;
 * when an entry's parent is not the top of the stack, finished directories are written as tree blobs,
 * deepest first. Memory is the open directories' listings, never file contents.
 *
 * With a parent snapshot, a file whose size, mtime and mode match the parent's node (and whose blobs are
 * all still indexed) reuses the parent's content without being read.
 *
 * Nothing is visible until `commit`: packs, then index objects, then the snapshot object, last.
 */
import { join } from 'node:path';
import { type Entry, type SafePath, parentOf } from '../../entry.js';
import { SluiceError, UsageError } from '../../errors.js';
import { fromHex, toHex } from '../crypto/blob-id.js';
import type { FdReader } from '../content/chunk-sources.js';
import type { SavedStream } from '../content/stream-saver.js';
import type { SmallFileResult, ContentWriter } from '../content/content-writer.js';
import type { Repository } from '../repository.js';
import { SmallFileBatcher } from './small-file-batcher.js';
import { type Snapshot, type SnapshotSummary, writeSnapshot } from './snapshots.js';
import { decodeIdList, decodeTree, encodeTree, type FileNode, INLINE_CHUNKS, LIST_IDS, type NodeBase, type StreamInfo, type TreeNode } from './tree.js';

export interface DirMeta {
  mode: number;
  mtimeMs: number;
  uid?: number;
  gid?: number;
}

interface VirtualDir {
  meta: DirMeta | undefined;
  children: Map<string, VirtualDir | TreeNode>;
}

interface OpenDir {
  path: string;
  meta: DirMeta;
  /** Finished nodes, and files still being stored (several files are stored at once). */
  nodes: (TreeNode | Promise<TreeNode>)[];
  /** The parent snapshot's listing of the same directory, when it has one. */
  previous: Map<string, TreeNode> | undefined;
}

export interface ProducerResult {
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
  command: string[];
}

export class ProducerFailedError extends SluiceError {
  constructor(name: string, result: ProducerResult) {
    const how = result.signal !== null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
    super('E_PRODUCER_FAILED', `the command producing stream ${JSON.stringify(name)} ${how}; no snapshot was written${result.stderrTail.length > 0 ? `; its stderr ended with: ${result.stderrTail.trim().slice(-500)}` : ''}`, { path: name });
  }
}

export interface ArchiveProgress {
  files: number;
  dirs: number;
  bytes: number;
  reusedFiles: number;
  currentPath: string;
}

export interface ArchiverOptions {
  parent?: { id: string; snapshot: Snapshot };
  now: () => Date;
  onWarning?: (message: string) => void;
}

/** Large files stored through the chunk pipeline at once. */
const FILES_AT_ONCE = 8;
/** Small files per batch, and bytes (by stat size) per batch, for the workers. */
const BATCH_FILES = 64;
const BATCH_BYTES = 2 * 1024 * 1024;
/** Files up to this size are read whole and stored without the chunk pipeline (they are one chunk). */
const SMALL_FILE_BYTES = 256 * 1024;

async function* concatStreams(head: readonly Uint8Array[], rest: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* head;
  yield* rest;
}

function isVirtual(x: VirtualDir | TreeNode): x is VirtualDir {
  return 'children' in x;
}

export class Archiver {
  readonly #repo: Repository;
  readonly #session: ContentWriter;
  readonly #options: ArchiverOptions;
  readonly #root: VirtualDir = { meta: undefined, children: new Map() };
  readonly #startedAt: number;
  readonly #paths: string[] = [];
  readonly #streams: string[] = [];
  readonly progress: ArchiveProgress = { files: 0, dirs: 0, bytes: 0, reusedFiles: 0, currentPath: '' };
  #parentRoot: Map<string, TreeNode> | undefined | null = null;
  #symlinks = 0;

  constructor(repo: Repository, session: ContentWriter, options: ArchiverOptions) {
    this.#repo = repo;
    this.#session = session;
    this.#options = options;
    this.#startedAt = options.now().getTime();
  }

  /** Sets the metadata of a directory on the way to a source (`var` for /var/www). */
  setDirMeta(path: SafePath, meta: DirMeta): void {
    this.#virtualDir(path).meta = meta;
  }

  /**
   * Adds a directory tree whose entries are relative to it, at `at` inside the snapshot ('' for the root).
   * `origin` is what the user named (recorded in the snapshot's paths). With `readFrom` (the directory
   * on disk the entry paths are relative to), small files are read by path in batches on the workers
   * instead of through their entries' content.
   */
  async addTree(at: SafePath | '', origin: string, meta: DirMeta, entries: AsyncIterable<Entry>, options: { readFrom?: string } = {}): Promise<void> {
    this.#paths.push(origin);
    const previous = await this.#previousListing(at);
    const stack: OpenDir[] = [{ path: '', meta, nodes: [], previous }];
    // Large files are stored through the chunk pipeline, up to FILES_AT_ONCE at once; small files in
    // batches on the workers. Nothing waits for a file where it is listed: each directory's node is a
    // promise that settles when its files and subdirectories have, which keeps the tree order.
    const streaming = new Set<Promise<unknown>>();
    const pending = new Set<Promise<unknown>>();
    /** The first failure of a file or directory (set from their promises). */
    const failure: { err?: unknown; failed: boolean } = { failed: false };
    const throwIfFailed = (): void => {
      if (failure.failed) throw failure.err;
    };
    const track = <T>(p: Promise<T>): Promise<T> => {
      pending.add(p);
      p.then(
        () => pending.delete(p),
        (err: unknown) => {
          pending.delete(p);
          if (!failure.failed) Object.assign(failure, { failed: true, err });
        },
      );
      return p;
    };
    const limit = Math.min(SMALL_FILE_BYTES, this.#repo.config.chunker.min);
    const batcher =
      options.readFrom === undefined
        ? undefined
        : new SmallFileBatcher(this.#session, limit, { files: BATCH_FILES, bytes: BATCH_BYTES, inFlight: 2 * this.#session.pool.sealers });
    const closeTop = (): void => {
      const done = stack.pop() as OpenDir;
      const top = stack[stack.length - 1] as OpenDir;
      const name = done.path.slice(done.path.lastIndexOf('/') + 1);
      const node = Promise.all(done.nodes).then(
        async (nodes): Promise<TreeNode> => ({ ...nodeBase(name, done.meta), type: 'dir', subtree: await this.#session.saveTree(encodeTree(nodes)) }),
      );
      top.nodes.push(track(node));
      this.progress.dirs += 1;
    };
    try {
      for await (const entry of entries) {
        throwIfFailed();
        const parent = parentOf(entry.path) ?? '';
        while (stack.length > 1 && (stack[stack.length - 1] as OpenDir).path !== parent) closeTop();
        const top = stack[stack.length - 1] as OpenDir;
        if (top.path !== parent) {
          throw new SluiceError('E_WALK_ORDER', `entry ${JSON.stringify(entry.path)} arrived outside its directory (entries must come depth first)`, { path: entry.path });
        }
        const name = entry.path.slice(entry.path.lastIndexOf('/') + 1);
        this.progress.currentPath = entry.path;
        if (entry.kind === 'dir') {
          const before = top.previous?.get(name);
          stack.push({
            path: entry.path,
            meta: entry,
            nodes: [],
            previous: before?.type === 'dir' ? await this.#loadListing(before.subtree) : undefined,
          });
        } else if (entry.kind === 'symlink') {
          top.nodes.push({ ...nodeBase(name, entry), type: 'symlink', target: entry.target });
          this.#symlinks += 1;
        } else {
          const before = top.previous?.get(name);
          const reused = before?.type === 'file' ? await this.#reuse(before, entry) : undefined;
          if (reused !== undefined) {
            top.nodes.push(reused);
            this.progress.reusedFiles += 1;
            this.progress.bytes += reused.size;
          } else if (batcher !== undefined && options.readFrom !== undefined && entry.size !== undefined && entry.size <= limit) {
            const full = join(options.readFrom, entry.path);
            const queued = await batcher.add(full, entry.size);
            top.nodes.push(track(queued.result.then((result) => this.#smallFileNode(name, entry, full, result))));
          } else {
            while (streaming.size >= FILES_AT_ONCE) await Promise.race(streaming).catch(() => undefined);
            throwIfFailed();
            const stored = track(
              (async (): Promise<TreeNode> => {
                const saved = await this.#saveFile(entry);
                return { ...nodeBase(name, entry), type: 'file', size: saved.size, sha256: saved.sha256, ...(await this.#contentRef(saved)) };
              })(),
            );
            streaming.add(stored);
            void stored.then(
              () => streaming.delete(stored),
              () => streaming.delete(stored),
            );
            top.nodes.push(stored);
          }
          this.progress.files += 1;
        }
      }
      while (stack.length > 1) closeTop();
      await batcher?.drain();
    } finally {
      // Every file and directory settles before this returns (or throws), so nothing is added later.
      batcher?.flush();
      while (pending.size > 0) await Promise.allSettled([...pending]);
    }
    throwIfFailed();
    const root = stack[0] as OpenDir;
    const rootNodes = await Promise.all(root.nodes);
    if (at === '') {
      for (const node of rootNodes) this.#place(node.name, node, '');
      this.#root.meta ??= meta;
    } else {
      const subtree = await this.#session.saveTree(encodeTree(rootNodes));
      const name = at.slice(at.lastIndexOf('/') + 1);
      this.#place(name, { ...nodeBase(name, meta), type: 'dir', subtree }, parentOf(at as SafePath) ?? '');
      this.progress.dirs += 1;
    }
  }

  /** The node of a small file stored by the batcher (or, when it grew past the limit, as a stream). */
  async #smallFileNode(name: string, entry: Entry & { kind: 'file' }, full: string, result: SmallFileResult): Promise<TreeNode> {
    if ('error' in result) {
      throw new SluiceError('E_READ', `cannot read ${full}: ${result.error.message}`, { path: entry.path });
    }
    let saved: SavedStream;
    if ('tooLarge' in result) {
      saved = await this.#session.saveStream(entry.content, (n) => {
        this.progress.bytes += n;
      });
    } else {
      saved = result.saved;
      this.progress.bytes += saved.size;
    }
    return { ...nodeBase(name, entry), type: 'file', size: saved.size, sha256: saved.sha256, ...(await this.#contentRef(saved)) };
  }

  /** Adds one file or symlink named on the command line, at `at` inside the snapshot. */
  async addEntry(at: SafePath, origin: string, entry: Entry): Promise<void> {
    this.#paths.push(origin);
    const name = at.slice(at.lastIndexOf('/') + 1);
    let node: TreeNode;
    if (entry.kind === 'symlink') {
      node = { ...nodeBase(name, entry), type: 'symlink', target: entry.target };
      this.#symlinks += 1;
    } else if (entry.kind === 'file') {
      const saved = await this.#session.saveStream(entry.content, (n) => {
        this.progress.bytes += n;
      });
      node = { ...nodeBase(name, entry), type: 'file', size: saved.size, sha256: saved.sha256, ...(await this.#contentRef(saved)) };
      this.progress.files += 1;
    } else {
      throw new UsageError(`${origin} is a directory; add it with addTree`);
    }
    this.#place(name, node, parentOf(at) ?? '');
  }

  /**
   * Adds a named stream. When `producer` is given (a command's outcome), the stream counts only if the
   * command exited 0; otherwise ProducerFailedError is thrown and the caller must not commit.
   */
  async addStream(
    at: SafePath,
    content: AsyncIterable<Uint8Array> | { fd: number } | FdReader,
    meta: DirMeta,
    source: { kind: 'stdin' } | { kind: 'command'; result: Promise<ProducerResult> },
  ): Promise<FileNode> {
    this.progress.currentPath = at;
    const saved = await this.#session.saveStream(content, (n) => {
      this.progress.bytes += n;
    });
    const stream: StreamInfo = { source: source.kind };
    if (source.kind === 'command') {
      const result = await source.result;
      stream.command = result.command;
      if (result.exitCode !== null) stream.exitCode = result.exitCode;
      if (result.signal !== null) stream.signal = result.signal;
      if (result.stderrTail.length > 0) stream.stderrTail = result.stderrTail;
      if (result.exitCode !== 0) throw new ProducerFailedError(at, result);
    }
    const name = at.slice(at.lastIndexOf('/') + 1);
    const node: FileNode = { ...nodeBase(name, meta), type: 'file', size: saved.size, sha256: saved.sha256, ...(await this.#contentRef(saved)), stream };
    this.#place(name, node, parentOf(at) ?? '');
    this.#streams.push(at);
    this.progress.files += 1;
    return node;
  }

  /** Writes the virtual directories, flushes packs and indexes, then writes the snapshot object. */
  async commit(meta: { time: Date; host: string; user: string; tags: string[]; program: string }): Promise<{ id: string; snapshot: Snapshot }> {
    const tree = await this.#writeVirtual(this.#root, '');
    await this.#session.flush();
    const stats = this.#session.writer.stats;
    const summary: SnapshotSummary = {
      files: this.progress.files,
      dirs: this.progress.dirs,
      symlinks: this.#symlinks,
      bytes: this.progress.bytes,
      newBytes: stats.dataBytes,
      storedBytes: stats.storedBytes,
      durationMs: this.#options.now().getTime() - this.#startedAt,
    };
    const snapshot: Snapshot = {
      time: meta.time.toISOString(),
      host: meta.host,
      user: meta.user,
      tags: meta.tags,
      paths: this.#paths,
      streams: this.#streams,
      tree,
      ...(this.#options.parent === undefined ? {} : { parent: this.#options.parent.id }),
      program: meta.program,
      summary,
    };
    const id = await writeSnapshot(this.#repo, snapshot);
    return { id, snapshot };
  }

  async #writeVirtual(dir: VirtualDir, path: string): Promise<string> {
    const nodes: TreeNode[] = [];
    for (const [name, child] of dir.children) {
      if (isVirtual(child)) {
        const childPath = path === '' ? name : `${path}/${name}`;
        const subtree = await this.#writeVirtual(child, childPath);
        nodes.push({ ...nodeBase(name, child.meta ?? { mode: 0o755, mtimeMs: this.#startedAt }), type: 'dir', subtree });
      } else {
        nodes.push(child);
      }
    }
    return this.#session.saveTree(encodeTree(nodes));
  }

  #virtualDir(path: string): VirtualDir {
    let dir = this.#root;
    if (path === '') return dir;
    for (const part of path.split('/')) {
      let next = dir.children.get(part);
      if (next === undefined) dir.children.set(part, (next = { meta: undefined, children: new Map() }));
      if (!isVirtual(next)) throw new UsageError(`"${path}" is both a directory on the way to another source and a file or stream`);
      dir = next;
    }
    return dir;
  }

  #place(name: string, node: TreeNode, parentPath: string): void {
    const dir = this.#virtualDir(parentPath);
    if (dir.children.has(name)) {
      const full = parentPath === '' ? name : `${parentPath}/${name}`;
      throw new UsageError(`two sources want the same place in the snapshot: "${full}"`);
    }
    dir.children.set(name, node);
  }

  /** A small file (as its stat says) is read whole and stored without the chunk pipeline; others stream. */
  async #saveFile(entry: Entry & { kind: 'file' }): Promise<SavedStream> {
    const limit = Math.min(SMALL_FILE_BYTES, this.#repo.config.chunker.min);
    if (entry.size === undefined || entry.size > limit) {
      return this.#session.saveStream(entry.content, (n) => {
        this.progress.bytes += n;
      });
    }
    const pieces: Uint8Array[] = [];
    let have = 0;
    const iterator = entry.content[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      // Copy: the source may recycle its read buffer once we ask for more.
      pieces.push(Uint8Array.from(next.value));
      have += next.value.length;
      this.progress.bytes += next.value.length;
      if (have > limit) {
        // The file grew since it was listed: store it as a stream after all.
        const rest = { [Symbol.asyncIterator]: () => iterator };
        return this.#session.saveStream(concatStreams(pieces, rest), () => undefined);
      }
    }
    return this.#session.saveSmall(pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces));
  }

  async #contentRef(saved: SavedStream): Promise<Pick<FileNode, 'content' | 'contentLists'>> {
    const ids: string[] = [];
    for (let i = 0; i < saved.chunks; i++) ids.push(toHex(saved.ids.subarray(i * 32, (i + 1) * 32)));
    if (saved.chunks <= INLINE_CHUNKS) return { content: ids };
    const lists: string[] = [];
    for (let i = 0; i < saved.chunks; i += LIST_IDS) {
      lists.push(await this.#session.saveTree(saved.ids.subarray(i * 32, Math.min(saved.chunks, i + LIST_IDS) * 32)));
    }
    return { contentLists: lists };
  }

  async #loadListing(treeId: string): Promise<Map<string, TreeNode> | undefined> {
    try {
      const tree = decodeTree(await this.#repo.readBlob(fromHex(treeId), 'tree'), `tree ${treeId}`);
      return new Map(tree.nodes.map((n) => [n.name, n]));
    } catch (err) {
      this.#options.onWarning?.(`parent snapshot tree ${treeId.slice(0, 12)} is unreadable, reading files again: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** The parent snapshot's listing of the directory at `at`. */
  async #previousListing(at: string): Promise<Map<string, TreeNode> | undefined> {
    const parent = this.#options.parent;
    if (parent === undefined) return undefined;
    if (this.#parentRoot === null) this.#parentRoot = await this.#loadListing(parent.snapshot.tree);
    let listing = this.#parentRoot;
    if (at === '') return listing;
    for (const part of at.split('/')) {
      const node = listing?.get(part);
      if (node?.type !== 'dir') return undefined;
      listing = await this.#loadListing(node.subtree);
    }
    return listing;
  }

  async #reuse(before: FileNode, entry: Entry & { kind: 'file' }): Promise<FileNode | undefined> {
    if (before.stream !== undefined || entry.size === undefined) return undefined;
    if (before.size !== entry.size || before.mtime !== entry.mtimeMs || before.mode !== entry.mode) return undefined;
    const index = this.#repo.index;
    try {
      if (before.content !== undefined) {
        if (!before.content.every((id) => index.has(fromHex(id)))) return undefined;
      } else if (before.contentLists !== undefined) {
        for (const list of before.contentLists) {
          const ids = decodeIdList(await this.#repo.readBlob(fromHex(list), 'tree'), `list ${list}`);
          if (!ids.every((id) => index.has(id))) return undefined;
        }
      } else if (before.size !== 0) {
        return undefined;
      }
    } catch {
      return undefined;
    }
    return { ...before, name: before.name, ...(entry.uid === undefined ? {} : { uid: entry.uid }), ...(entry.gid === undefined ? {} : { gid: entry.gid }) };
  }
}

function nodeBase(name: string, meta: DirMeta): NodeBase {
  const base: NodeBase = { name, mode: meta.mode & 0o7777, mtime: meta.mtimeMs };
  if (meta.uid !== undefined) base.uid = meta.uid;
  if (meta.gid !== undefined) base.gid = meta.gid;
  return base;
}
