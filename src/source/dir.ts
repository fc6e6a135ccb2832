/**
 * A directory tree as entries. Paths are relative to the root; each directory is yielded before its
 * contents, its files before its subdirectories (so extractors that create only one level of parent
 * directory, like mbstream, still find the parents they need), names in byte order.
 *
 * File content is read lazily, when the consumer pulls it, in blocks of `readBytes` with one block read
 * ahead: memory is about 2 × readBytes per file being pulled, whatever the file sizes.
 */
import { close, constants, open as openCallback, read, type Stats } from 'node:fs';
import { lstat, opendir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BufferPool } from '../bytes/buffer-pool.js';
import type { BatchedFiles, FileReader } from './file-reader.js';
import { type Entry, type SafePath, toSafePath } from '../entry.js';
import { SluiceError } from '../errors.js';

export interface DirSourceOptions {
  /** Bytes per read; 10 MiB matches xbstream's chunk size so chunks need no copying. */
  readBytes?: number;
  /** Blocks to read into (its block size must be at least readBytes); the sink gives them back. */
  pool?: BufferPool;
  /** Read file content on reader threads (much faster for many small files); reads in its pool's blocks. */
  reader?: FileReader;
  /** Called for things the walk passes over (sockets, FIFOs, devices). */
  onSkip?: (path: string, reason: string) => void;
  /** Paths (relative, as yielded) to leave out, with everything below them. */
  exclude?: (path: SafePath, kind: 'file' | 'dir' | 'symlink' | 'other') => boolean;
  signal?: AbortSignal;
  /** Stored paths start with this directory (the tree itself is yielded as a directory entry first). */
  prefix?: SafePath;
  /**
   * false: regular files are not stat'ed (their kind comes from the directory listing), for containers
   * that store no metadata (xbstream). Their entries then carry no size, mode 0 and mtime 0; the content
   * is read until a short read. Default true.
   */
  statFiles?: boolean;
}

export const DEFAULT_READ_BYTES = 10 * 1024 * 1024;

export async function* readDirectory(root: string, options: DirSourceOptions = {}): AsyncGenerator<Entry> {
  const rootStat = await lstat(root);
  if (!rootStat.isDirectory()) {
    throw new SluiceError('E_NOT_A_DIRECTORY', `${root} is not a directory`, { path: root });
  }
  if (options.prefix !== undefined) yield { kind: 'dir', path: options.prefix, ...meta(rootStat) };
  yield* walk(root, options.prefix, options);
}

/** lstat calls in flight while walking a directory: hides per-call latency, order is kept. */
const STAT_WINDOW = 32;

async function* walk(dir: string, prefix: SafePath | undefined, options: DirSourceOptions): AsyncGenerator<Entry> {
  const names: string[] = [];
  const plainFiles = new Set<string>();
  for await (const dirent of await opendir(dir)) {
    names.push(dirent.name);
    if (options.statFiles === false && dirent.isFile()) plainFiles.add(dirent.name);
  }
  names.sort(compareBytes);
  const relOf = (name: string): SafePath => toSafePath(prefix === undefined ? name : `${prefix}/${name}`);
  // Files known from the listing alone are read in batches when there are reader threads.
  const batched =
    options.reader !== undefined && plainFiles.size > 1
      ? options.reader.batched(names.filter((n) => plainFiles.has(n) && options.exclude?.(relOf(n), 'file') !== true).map((n) => join(dir, n)), options.signal)
      : undefined;
  const subdirs: { full: string; rel: SafePath }[] = [];
  for await (const { name, full, st } of statAhead(dir, names, plainFiles)) {
    options.signal?.throwIfAborted();
    const rel = relOf(name);
    if (st === undefined) {
      if (options.exclude?.(rel, 'file') !== true) yield unstatedFileEntry(full, rel, options, batched);
      continue;
    }
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    if (options.exclude?.(rel, kind) === true) continue;
    if (kind === 'dir') subdirs.push({ full, rel });
    else if (kind === 'file') yield fileEntry(full, rel, st, options);
    else if (kind === 'symlink') yield { kind: 'symlink', path: rel, target: await readlink(full), ...meta(st) };
    else options.onSkip?.(rel, `not a regular file, directory or symlink (${describeType(st)})`);
  }
  for (const { full, rel } of subdirs) {
    yield { kind: 'dir', path: rel, ...meta(await lstat(full)) };
    yield* walk(full, rel, options);
  }
}

type Statted = { name: string; full: string; st: Stats | undefined };

/** lstat of each name (except `skip`), in order, with up to STAT_WINDOW calls running ahead of the consumer. */
async function* statAhead(dir: string, names: string[], skip: Set<string>): AsyncGenerator<Statted> {
  const pending: Promise<Statted>[] = [];
  let next = 0;
  const start = (): void => {
    const name = names[next++] as string;
    const full = join(dir, name);
    const stat = skip.has(name) ? Promise.resolve({ name, full, st: undefined }) : lstat(full).then((st) => ({ name, full, st }));
    stat.catch(() => undefined); // awaited in order below; never an unhandled rejection meanwhile
    pending.push(stat);
  };
  while (next < names.length && pending.length < STAT_WINDOW) start();
  while (pending.length > 0) {
    const item = await (pending.shift() as Promise<Statted>);
    if (next < names.length) start();
    yield item;
  }
}

/** One file named on a command line, stored under `rel`. */
export async function fileEntryFor(full: string, rel: SafePath, options: DirSourceOptions = {}): Promise<Entry> {
  const st = await lstat(full);
  if (st.isFile()) return fileEntry(full, rel, st, options);
  if (st.isSymbolicLink()) return { kind: 'symlink', path: rel, target: await readlink(full), ...meta(st) };
  if (st.isDirectory()) return { kind: 'dir', path: rel, ...meta(st) };
  throw new SluiceError('E_UNSUPPORTED_FILE', `${full} is not a regular file, directory or symlink`, { path: full });
}

function fileEntry(full: string, rel: SafePath, st: Stats, options: DirSourceOptions): Entry {
  return {
    kind: 'file',
    path: rel,
    size: st.size,
    ...meta(st),
    content: contentOf(full, st.size, options),
  };
}

function unstatedFileEntry(full: string, rel: SafePath, options: DirSourceOptions, batched: BatchedFiles | undefined): Entry {
  const content = batched !== undefined ? batched.content(full) : contentOf(full, Number.MAX_SAFE_INTEGER, options);
  return { kind: 'file', path: rel, mode: 0, mtimeMs: 0, content };
}

function contentOf(full: string, size: number, options: DirSourceOptions): AsyncIterable<Uint8Array> {
  if (options.reader !== undefined) return options.reader.read(full, size, options.signal);
  return readFileBlocks(full, size, options.readBytes ?? options.pool?.blockBytes ?? DEFAULT_READ_BYTES, options.pool, options.signal);
}

function meta(st: Stats): { mode: number; mtimeMs: number; uid: number; gid: number } {
  return { mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, uid: st.uid, gid: st.gid };
}

/**
 * Reads a file in blocks, issuing the next read before yielding the current block. A read that returns
 * fewer bytes than asked means end of file (regular files only), so a file whose size matches its stat
 * costs one read per block and no extra read to find the end.
 */
async function* readFileBlocks(
  path: string,
  statSize: number,
  readBytes: number,
  pool: BufferPool | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  // Plain descriptors with callbacks: FileHandle objects cost noticeably more per file in a tree of small files.
  const fd = await openFd(path);
  const requestAt = (at: number): number => Math.min(readBytes, Math.max(statSize - at, 0) + 1);
  let position = 0;
  let request = requestAt(0);
  let pending: Promise<Uint8Array> | undefined = readBlock(fd, 0, request, pool);
  try {
    for (;;) {
      signal?.throwIfAborted();
      const block: Uint8Array = await (pending as Promise<Uint8Array>);
      pending = undefined;
      if (block.length === 0) return;
      const atEnd = block.length < request;
      position += block.length;
      if (!atEnd) {
        request = requestAt(position);
        pending = readBlock(fd, position, request, pool);
      }
      yield block;
      if (atEnd) return;
    }
  } finally {
    await pending?.catch(() => undefined);
    // The file is fully read: closing it need not hold up the consumer (a read-only close cannot lose data).
    close(fd, () => undefined);
  }
}

function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    openCallback(path, constants.O_RDONLY | constants.O_NOFOLLOW, (err, fd) => (err === null ? resolve(fd) : reject(err))),
  );
}

function readBlock(fd: number, position: number, length: number, pool: BufferPool | undefined): Promise<Uint8Array> {
  const pooled = pool !== undefined && length <= pool.blockBytes;
  const buffer = pooled ? pool.take() : Buffer.allocUnsafe(length);
  return new Promise((resolve, reject) =>
    read(fd, buffer, 0, length, position, (err, bytesRead) => {
      if (err !== null) {
        if (pooled) pool.putBack(buffer);
        reject(err);
        return;
      }
      const view = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      if (pooled) pool.lend(buffer, view);
      resolve(view);
    }),
  );
}

function describeType(st: Stats): string {
  if (st.isSocket()) return 'socket';
  if (st.isFIFO()) return 'FIFO';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'unknown type';
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
