/**
 * Builds one snapshot from any number of directory trees (entries in walk order) and named streams.
 * The parts live in archive/: the directory stack that turns a walk into trees (directory-stack.ts),
 * small-file vs streamed storage (file-storage.ts), reuse of a parent snapshot's files (parent-reuse.ts),
 * the directories on the way to each source (virtual-root.ts), and command streams (streams.ts).
 *
 * Nothing is visible until `commit`: packs, then index objects, then the snapshot object, last.
 */
import { type Entry, type SafePath, parentOf } from '../../entry.js';
import { UsageError } from '../../errors.js';
import type { FdReader } from '../content/chunk-sources.js';
import type { ContentWriter } from '../content/content-writer.js';
import type { Repository } from '../repository.js';
import { storeTree } from './archive/directory-stack.js';
import { FileStorage } from './archive/file-storage.js';
import { type ArchiveProgress, baseName, type DirMeta, fileNode, nodeBase } from './archive/nodes.js';
import { ParentReuse } from './archive/parent-reuse.js';
import { type StreamSource, streamInfo } from './archive/streams.js';
import { VirtualRoot } from './archive/virtual-root.js';
import { type Snapshot, type SnapshotSummary, writeSnapshot } from './snapshots.js';
import { encodeTree, type FileNode, type TreeNode } from './tree.js';

export type { ArchiveProgress, DirMeta } from './archive/nodes.js';
export { ProducerFailedError, type ProducerResult } from './archive/streams.js';

export interface ArchiverOptions {
  parent?: { id: string; snapshot: Snapshot };
  now: () => Date;
  onWarning?: (message: string) => void;
}

export class Archiver {
  readonly #repo: Repository;
  readonly #session: ContentWriter;
  readonly #options: ArchiverOptions;
  readonly #root: VirtualRoot;
  readonly #storage: FileStorage;
  readonly #reuse: ParentReuse;
  readonly #startedAt: number;
  readonly #paths: string[] = [];
  readonly #streams: string[] = [];
  readonly progress: ArchiveProgress = { files: 0, dirs: 0, bytes: 0, reusedFiles: 0, currentPath: '' };
  #symlinks = 0;

  constructor(repo: Repository, session: ContentWriter, options: ArchiverOptions) {
    this.#repo = repo;
    this.#session = session;
    this.#options = options;
    this.#startedAt = options.now().getTime();
    this.#root = new VirtualRoot(this.#startedAt);
    this.#storage = new FileStorage(session, this.progress, repo.config.chunker.min);
    this.#reuse = new ParentReuse(repo, options.parent, options.onWarning);
  }

  /** Sets the metadata of a directory on the way to a source (`var` for /var/www). */
  setDirMeta(path: SafePath, meta: DirMeta): void {
    this.#root.setMeta(path, meta);
  }

  /**
   * Adds a directory tree whose entries are relative to it, at `at` inside the snapshot ('' for the root).
   * `origin` is what the user named (recorded in the snapshot's paths). With `readFrom` (the directory
   * on disk the entry paths are relative to), small files are read by path in batches on the workers
   * instead of through their entries' content.
   */
  async addTree(at: SafePath | '', origin: string, meta: DirMeta, entries: AsyncIterable<Entry>, options: { readFrom?: string } = {}): Promise<void> {
    this.#paths.push(origin);
    const previous = await this.#reuse.listingAt(at);
    const parts = {
      session: this.#session,
      storage: this.#storage,
      reuse: this.#reuse,
      progress: this.progress,
      onSymlink: () => {
        this.#symlinks += 1;
      },
    };
    const rootNodes = await storeTree(parts, entries, { meta, previous }, options.readFrom);
    if (at === '') {
      for (const node of rootNodes) this.#root.place(node.name, node, '');
      this.#root.setRootMetaOnce(meta);
    } else {
      const subtree = await this.#session.saveTree(encodeTree(rootNodes));
      const name = baseName(at);
      this.#root.place(name, { ...nodeBase(name, meta), type: 'dir', subtree }, parentOf(at as SafePath) ?? '');
      this.progress.dirs += 1;
    }
  }

  /** Adds one file or symlink named on the command line, at `at` inside the snapshot. */
  async addEntry(at: SafePath, origin: string, entry: Entry): Promise<void> {
    this.#paths.push(origin);
    const name = baseName(at);
    let node: TreeNode;
    if (entry.kind === 'symlink') {
      node = { ...nodeBase(name, entry), type: 'symlink', target: entry.target };
      this.#symlinks += 1;
    } else if (entry.kind === 'file') {
      node = await fileNode(this.#session, name, entry, await this.#storage.stream(entry.content));
      this.progress.files += 1;
    } else {
      throw new UsageError(`${origin} is a directory; add it with addTree`);
    }
    this.#root.place(name, node, parentOf(at) ?? '');
  }

  /**
   * Adds a named stream. When `source` is a command (its outcome), the stream counts only if the
   * command exited 0; otherwise ProducerFailedError is thrown and the caller must not commit.
   */
  async addStream(at: SafePath, content: AsyncIterable<Uint8Array> | { fd: number } | FdReader, meta: DirMeta, source: StreamSource): Promise<FileNode> {
    this.progress.currentPath = at;
    const saved = await this.#storage.stream(content);
    const stream = await streamInfo(at, source);
    const name = baseName(at);
    const node: FileNode = { ...(await fileNode(this.#session, name, meta, saved)), stream };
    this.#root.place(name, node, parentOf(at) ?? '');
    this.#streams.push(at);
    this.progress.files += 1;
    return node;
  }

  /** Writes the virtual directories, flushes packs and indexes, then writes the snapshot object. */
  async commit(meta: { time: Date; host: string; user: string; tags: string[]; program: string }): Promise<{ id: string; snapshot: Snapshot }> {
    const tree = await this.#root.write(this.#session);
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
}
