/**
 * One snapshot of any number of directories (or files) and named streams: the caller's byte streams
 * (stdin, anything iterable) and commands' stdout. Data is written first, the snapshot object last: a
 * run that fails or is cancelled leaves no snapshot.
 */
import { lstat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BufferPool } from '../../bytes/buffer-pool.js';
import { baseNameOf, type Entry, type SafePath, toSafePath } from '../../entry.js';
import { errorMessage, UsageError } from '../../errors.js';
import { FdReader } from '../../repo/content/chunk-sources.js';
import { prestartPool, ContentWriter } from '../../repo/content/content-writer.js';
import type { Repository } from '../../repo/repository.js';
import { type ArchiveProgress, Archiver, type DirMeta } from '../../repo/snapshot/archiver.js';
import { globMatcher } from '../../repo/snapshot/glob.js';
import { listSnapshots, resolveSnapshot, type Snapshot, type SnapshotRef } from '../../repo/snapshot/snapshots.js';
import type { CryptoPool } from '../../repo/workers/crypto-pool.js';
import { commandEntry, type CommandSource } from '../../source/command.js';
import { fileEntryFor, readDirectory } from '../../source/dir.js';
import { defaultUploads } from './uploads.js';

/** A named stream of the snapshot: bytes the caller supplies, or the stdout of a command the job runs. */
export type SnapshotStream =
  | {
      name: string;
      /** The bytes (recorded as read from stdin). An FdReader reads and cuts a file descriptor on a thread of its own. */
      content: AsyncIterable<Uint8Array> | FdReader;
    }
  | {
      name: string;
      /** argv of a command run without a shell; the stream counts only if it exits 0 (else ProducerFailedError, no snapshot). */
      command: readonly string[];
      /** The command's environment (default: this process's). */
      env?: NodeJS.ProcessEnv;
      /** The command's stderr as it arrives (default: dropped; the tail is recorded with the stream). */
      onStderr?: (chunk: Uint8Array) => void;
    };

export interface SnapshotOptions {
  /** Directories or files to store; relative ones are taken from `cwd`. */
  paths?: readonly string[];
  cwd?: string;
  streams?: readonly SnapshotStream[];
  tags?: readonly string[];
  /** Time recorded (default: now); also the mtime of the streams. */
  time?: Date;
  /**
   * Snapshot whose unchanged files are reused without being read (id prefix or `latest`); default: the
   * latest of this host with the same paths. Ignored with `force`.
   */
  parent?: string;
  /** Read every file, even those unchanged since the parent snapshot. */
  force?: boolean;
  /** Glob patterns (`*`, `**`, `?`) of absolute paths, or of a last component, to leave out. */
  exclude?: readonly string[];
  /** Target pack size of this run in bytes (default: the repository's). */
  packSize?: number;
  /** zstd level of this run (default: the repository's). */
  compressionLevel?: number;
  /** Compression/encryption threads (default: CPUs, at most 4), or a pool from `prestartSnapshotWorkers` (then the caller closes it). */
  workers?: number | CryptoPool;
  /** Packs uploaded at once (default: 4 to S3, 2 to a local directory); memory grows by one pack each. */
  uploads?: number;
  /** Recorded as the program that wrote the snapshot. */
  program?: string;
  signal?: AbortSignal;
  /** Things passed over (unreadable files, sockets) and parent trees that could not be read. */
  onWarning?: (message: string) => void;
  /** Progress so far, every `progressIntervalMs` (default 200). */
  onProgress?: (progress: Readonly<ArchiveProgress>) => void;
  progressIntervalMs?: number;
}

export interface SnapshotResult {
  id: string;
  snapshot: Snapshot;
}

/**
 * File blocks of a directory backup: the chunker copies them into its slots, so larger blocks only add
 * memory (several are in flight and the pool keeps some); see the decision log in docs/architecture.md.
 */
const REPO_READ_BYTES = 1024 * 1024;

/**
 * Starts a snapshot's worker threads early (they load their modules while the password is checked); pass
 * the pool as `workers` and close it after.
 */
export function prestartSnapshotWorkers(threads?: number): CryptoPool {
  return prestartPool(threads);
}

/**
 * Starts the thread that reads and cuts a file descriptor (a pipe or file on stdin, fd 0) for a
 * snapshot stream: pass it as a stream's `content`, and `close()` it after the snapshot. Started before
 * the repository is opened, it is ready by the time the password is checked.
 */
export function readFdOnThread(fd: number): FdReader {
  return new FdReader(fd);
}

/** A stream's name as the snapshot stores it (a path inside it); refuses unsafe names (UnsafePathError) before anything is opened. */
export function streamName(text: string): SafePath {
  return toSafePath(text);
}

async function dirMeta(path: string): Promise<DirMeta> {
  const st = await lstat(path);
  return { mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, uid: st.uid, gid: st.gid };
}

/** The snapshot whose files may be reused: the one named, or the latest of this host with the same paths. */
async function chooseParent(repo: Repository, dirs: readonly string[], named: string | undefined): Promise<SnapshotRef | undefined> {
  const all = await listSnapshots(repo);
  if (named !== undefined) return resolveSnapshot(all, named);
  const key = JSON.stringify([...dirs].sort());
  return [...all].reverse().find((s) => s.snapshot.host === repo.client.host && JSON.stringify([...s.snapshot.paths].sort()) === key);
}

/** Gives each file block back to the read pool once the saver has copied it into a chunk slot. */
async function* recycled(entries: AsyncIterable<Entry>, pool: BufferPool): AsyncGenerator<Entry> {
  for await (const entry of entries) {
    if (entry.kind !== 'file') {
      yield entry;
      continue;
    }
    const content = entry.content;
    yield {
      ...entry,
      content: (async function* () {
        for await (const block of content) {
          yield block;
          pool.give(block);
        }
      })(),
    };
  }
}

/** Adds one directory or file named by the caller, with the metadata of the directories on the way to it. */
async function addPath(archiver: Archiver, dir: string, options: { pool: BufferPool; exclude: ((path: string) => boolean) | undefined; signal?: AbortSignal; onWarning?: (m: string) => void }): Promise<void> {
  const st = await lstat(dir).catch((err: unknown) => {
    throw new UsageError(`cannot read ${dir}: ${errorMessage(err)}`);
  });
  const at = dir === '/' ? '' : toSafePath(dir.slice(1));
  const parts = at === '' ? [] : at.split('/');
  for (let i = 1; i < parts.length; i++) {
    const ancestor = parts.slice(0, i).join('/');
    archiver.setDirMeta(toSafePath(ancestor), await dirMeta(`/${ancestor}`));
  }
  if (st.isDirectory()) {
    const { exclude, onWarning } = options;
    const entries = readDirectory(dir, {
      pool: options.pool,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onSkip: (path, reason) => onWarning?.(`skipped ${dir}/${path}: ${reason}`),
      ...(exclude === undefined ? {} : { exclude: (path: SafePath) => exclude(`${dir === '/' ? '' : dir}/${path}`) }),
    });
    await archiver.addTree(at, dir, await dirMeta(dir), recycled(entries, options.pool), { readFrom: dir });
  } else if (at !== '') {
    const entry = await fileEntryFor(dir, toSafePath(baseNameOf(at)));
    await archiver.addEntry(at, dir, entry);
  }
}

/**
 * Stores `paths` and `streams` as one encrypted, deduplicated snapshot. The caller holds a shared lock
 * (openRepository with `lock: 'shared'`). Streams are stored first, in order, then the paths.
 */
export async function snapshot(repo: Repository, options: SnapshotOptions): Promise<SnapshotResult> {
  const dirs = (options.paths ?? []).map((p) => resolve(options.cwd ?? '.', p));
  const streams = (options.streams ?? []).map((s) => ({ ...s, at: toSafePath(s.name) }));
  if (dirs.length === 0 && streams.length === 0) throw new UsageError('nothing to store: give directories, --stdin NAME or --stdin-from-command NAME');
  const time = options.time ?? new Date();
  const ownWorkers = typeof options.workers !== 'object';
  const workers = typeof options.workers === 'object' ? options.workers : prestartPool(options.workers);
  const sources: CommandSource[] = [];
  let session: ContentWriter | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await repo.loadIndex();
    const parent = dirs.length > 0 && options.force !== true ? await chooseParent(repo, dirs, options.parent) : undefined;
    session = new ContentWriter(repo, {
      pool: workers,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.packSize === undefined ? {} : { packSize: options.packSize }),
      ...(options.compressionLevel === undefined ? {} : { level: options.compressionLevel }),
      uploads: options.uploads ?? defaultUploads(repo.store),
    });
    const archiver = new Archiver(repo, session, {
      now: () => new Date(),
      ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
      ...(parent === undefined ? {} : { parent: { id: parent.id, snapshot: parent.snapshot } }),
    });
    const onProgress = options.onProgress;
    if (onProgress !== undefined) {
      timer = setInterval(() => onProgress(archiver.progress), options.progressIntervalMs ?? 200);
      timer.unref();
    }
    const meta = { mode: 0o600, mtimeMs: time.getTime() };
    for (const spec of streams) {
      if ('content' in spec) {
        await archiver.addStream(spec.at, spec.content, meta, { kind: 'stdin' });
      } else {
        const source = commandEntry(spec.at, spec.command, {
          mtimeMs: time.getTime(),
          ...(spec.env === undefined ? {} : { env: spec.env }),
          ...(spec.onStderr === undefined ? {} : { onStderr: spec.onStderr }),
        });
        sources.push(source);
        await archiver.addStream(spec.at, source.entry.content, meta, { kind: 'command', result: source.result });
      }
    }
    const exclude = options.exclude !== undefined && options.exclude.length > 0 ? globMatcher(options.exclude) : undefined;
    const pool = new BufferPool(REPO_READ_BYTES);
    for (const dir of dirs) {
      await addPath(archiver, dir, {
        pool,
        exclude,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
      });
    }
    return await archiver.commit({ time, host: repo.client.host, user: repo.client.user, tags: [...(options.tags ?? [])], program: options.program ?? 'sluice' });
  } catch (err) {
    for (const s of sources) s.kill();
    await session?.abandon();
    throw err;
  } finally {
    if (timer !== undefined) clearInterval(timer);
    if (ownWorkers) await workers.close();
  }
}
