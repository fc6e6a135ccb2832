/** Read-only jobs on an open repository: list snapshots, list a snapshot's tree, read a file or stream, diff two snapshots. */
import { UsageError } from '../../errors.js';
import type { Repository } from '../../repo/repository.js';
import { type DiffItem, diffTrees } from '../../repo/snapshot/diff.js';
import { readFile } from '../../repo/snapshot/stored-file-reader.js';
import { listSnapshots as allSnapshots, matchesFilter, resolveSnapshot, type SnapshotFilter, type SnapshotRef } from '../../repo/snapshot/snapshots.js';
import type { FileNode, TreeNode } from '../../repo/snapshot/tree.js';
import { loadTree, walkTree } from '../../repo/snapshot/walker.js';
import { cryptoPoolFor } from './crypto-pool.js';
import { resolveRef } from './ref.js';

export interface ListSnapshotsOptions {
  /** Only snapshots of this host. */
  host?: string;
  /** Only snapshots with every one of these tags. */
  tags?: readonly string[];
  /** Only snapshots holding each of these directories or streams. */
  paths?: readonly string[];
  /** Only the newest N (after the other filters). */
  latest?: number;
}

/** The snapshots that match, oldest first. */
export async function listSnapshots(repo: Repository, options: ListSnapshotsOptions = {}): Promise<SnapshotRef[]> {
  const filter: SnapshotFilter = {
    ...(options.host === undefined ? {} : { host: options.host }),
    tags: [...(options.tags ?? [])],
    paths: [...(options.paths ?? [])],
  };
  const all = (await allSnapshots(repo)).filter((s) => matchesFilter(s.snapshot, filter));
  return options.latest === undefined ? all : all.slice(-Math.max(0, options.latest));
}

export interface TreeItem {
  /** Path inside the snapshot, without the leading `/` ('' for the root). */
  path: string;
  node: TreeNode;
}

export interface ListTreeOptions {
  /** Path inside the snapshot when `snapshot` has no `:PATH`. */
  path?: string;
  /** With `latest`: the newest snapshot of this host. */
  host?: string;
  /** Everything below the directory (default), or only its own entries. */
  recursive?: boolean;
}

export interface ListTreeResult {
  snapshot: SnapshotRef;
  /** The listed path inside the snapshot ('' for the root). */
  path: string;
  /** The node listed first (unless it is the root), then what is below it, depth first. */
  entries: AsyncIterable<TreeItem>;
}

/** The entries of a snapshot (`ID[:PATH]` or `latest[:PATH]`) at and below a path. */
export async function listTree(repo: Repository, snapshot: string, options: ListTreeOptions = {}): Promise<ListTreeResult> {
  const { ref, path: at, node } = await resolveRef(repo, snapshot, options.host === undefined ? {} : { host: options.host }, options.path);
  const recursive = options.recursive ?? true;
  async function* entries(): AsyncGenerator<TreeItem> {
    if (node.type !== 'dir') {
      yield { path: at, node };
      return;
    }
    if (at !== '') yield { path: at, node };
    if (recursive) {
      yield* walkTree(repo, node.subtree, at);
    } else {
      for (const n of (await loadTree(repo, node.subtree)).nodes) yield { path: at === '' ? n.name : `${at}/${n.name}`, node: n };
    }
  }
  return { snapshot: ref, path: at, entries: entries() };
}

export interface OpenFileOptions {
  /** Path inside the snapshot when `snapshot` has no `:PATH`. */
  path?: string;
  /** With `latest`: the newest snapshot of this host. */
  host?: string;
  /** Chunks fetched and decrypted at once (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface OpenedFile {
  snapshot: SnapshotRef;
  path: string;
  node: FileNode;
  /**
   * The bytes, each chunk authenticated and its id checked before it is yielded; the length and SHA-256
   * are checked at the end (IntegrityError, exit status 4). Iterate once.
   */
  data: AsyncIterable<Uint8Array>;
}

/** A file or named stream of a snapshot (`latest:db.sql`, `3f2a91c0:/etc/hosts`), to be read verified. */
export async function openFile(repo: Repository, snapshot: string, options: OpenFileOptions = {}): Promise<OpenedFile> {
  const { ref, path: at, node } = await resolveRef(repo, snapshot, options.host === undefined ? {} : { host: options.host }, options.path);
  if (node.type !== 'file') throw new UsageError(`/${at} is ${node.type === 'dir' ? 'a directory' : 'a symlink'}; cat writes files and streams (use restore for directories)`);
  async function* data(): AsyncGenerator<Uint8Array> {
    const pool = cryptoPoolFor(repo);
    try {
      yield* readFile(repo, pool, node as FileNode, `/${at}`, { concurrency: options.concurrency ?? 8, ...(options.signal === undefined ? {} : { signal: options.signal }) });
    } finally {
      await pool.close();
    }
  }
  return { snapshot: ref, path: at, node, data: data() };
}

/** A named stream of a snapshot (`db.sql` of `latest`): openFile with the stream's name as the path. */
export function openStream(repo: Repository, snapshot: string, name: string, options: Omit<OpenFileOptions, 'path'> = {}): Promise<OpenedFile> {
  return openFile(repo, snapshot, { ...options, path: name });
}

export type DiffCounts = Record<DiffItem['change'], number>;

export interface DiffResult {
  from: SnapshotRef;
  to: SnapshotRef;
  /** What changed, in path order. */
  changes: AsyncIterable<DiffItem>;
  /** Changes of each kind seen so far (complete once `changes` is done). */
  counts: DiffCounts;
}

/** What changed between two snapshots (id prefixes or `latest`). */
export async function diff(repo: Repository, from: string, to: string): Promise<DiffResult> {
  const all = await allSnapshots(repo);
  const a = resolveSnapshot(all, from);
  const b = resolveSnapshot(all, to);
  await repo.loadIndex();
  const counts: DiffCounts = { '+': 0, '-': 0, M: 0, U: 0, T: 0 };
  async function* changes(): AsyncGenerator<DiffItem> {
    for await (const item of diffTrees(repo, a.snapshot.tree, b.snapshot.tree, '')) {
      counts[item.change] += 1;
      yield item;
    }
  }
  return { from: a, to: b, changes: changes(), counts };
}
