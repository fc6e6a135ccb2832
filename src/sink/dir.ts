/**
 * Safe extraction into a target directory.
 *
 * - Every path is a SafePath (relative, no `..`), and every directory on the way is checked with lstat:
 *   a symlink (planted in the target, or created by the stream) is never passed through.
 * - A new file is created under its final name with O_CREAT | O_EXCL | O_NOFOLLOW (so neither an existing
 *   file nor a symlink is ever written through) and removed again unless it is committed: `abortAll`
 *   removes every file whose data stopped arriving. A replacement (`overwrite`, or MariaDB's rewrite flag)
 *   is written under a temporary name and renamed over the old file on commit, so a failure keeps the old.
 * - An existing file is not replaced unless asked (like mbstream's O_EXCL).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, lutimes, mkdir, open, realpath, rename, symlink, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { type Entry, type SafePath, parentOf } from '../entry.js';
import { SluiceError, UnsafePathError } from '../errors.js';
import { SyncFile, type WritableFile } from './sync-file.js';

export interface DirSinkOptions {
  /** Replace files that already exist (default: refuse). */
  overwrite?: boolean;
  /** Apply entry modes and mtimes (default true). */
  preserveMetadata?: boolean;
  /** Apply entry owners (only root can; default false). */
  preserveOwner?: boolean;
  /**
   * Open and write files with synchronous calls on this thread (see SyncFile): cheaper for one writer,
   * but the event loop waits for each write.
   */
  synchronousWrites?: boolean;
}

export interface OutputFile {
  readonly path: SafePath;
  write(data: Uint8Array, position: number): Promise<void>;
  /** Writes the pieces back to back from `position`, in one system call when the kernel allows. */
  writev(pieces: Uint8Array[], position: number): Promise<void>;
  /** Makes the file visible under its final name, at least `minSize` bytes long. */
  commit(meta?: { mode?: number; mtimeMs?: number; uid?: number; gid?: number; minSize?: number }): Promise<void>;
  /** Closes and deletes the temporary file. */
  abort(): Promise<void>;
}

const TEMP_MARK = '.sluice-partial-';

export class DirectorySink {
  readonly #root: string;
  readonly #options: DirSinkOptions;
  /** Directories (relative) known to be real directories inside the root. */
  readonly #verified = new Set<string>();
  readonly #open = new Set<OutputFileImpl>();
  /** Directory times are applied last: writing into a directory changes its mtime. */
  readonly #directoryTimes: { path: SafePath; mtimeMs: number }[] = [];

  private constructor(root: string, options: DirSinkOptions) {
    this.#root = root;
    this.#options = options;
  }

  /** Creates the target directory if needed; the target itself may be reached through a symlink. */
  static async create(root: string, options: DirSinkOptions = {}): Promise<DirectorySink> {
    await mkdir(root, { recursive: true });
    return new DirectorySink(await realpath(root), options);
  }

  get root(): string {
    return this.#root;
  }

  /** Full path of a validated relative path. */
  resolve(path: SafePath): string {
    return join(this.#root, path);
  }

  /** `existsNote` is added to the message when the file is refused because it exists. */
  async openFile(path: SafePath, options: { replace?: boolean; existsNote?: string } = {}): Promise<OutputFile> {
    await this.#ensureDirectory(parentOf(path), true, path);
    const finalPath = this.resolve(path);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    let file: OutputFileImpl;
    if (this.#options.overwrite !== true && options.replace !== true) {
      // A new file is created under its final name (one open, as the peers do; O_EXCL makes the
      // existence check atomic and never follows a symlink) and removed again if it is not completed.
      let fh: WritableFile;
      try {
        fh = await this.#openFile(finalPath, flags);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const note = options.existsNote !== undefined ? `; ${options.existsNote}` : '';
        const what = (await lstatOrUndefined(finalPath))?.isDirectory() === true ? 'a directory is in the way of this file' : `file already exists in the target directory (extract into an empty directory, or pass --overwrite)${note}`;
        throw new SluiceError('E_EXISTS', what, { path });
      }
      file = new OutputFileImpl(path, finalPath, undefined, fh, this, this.#options);
    } else {
      // A replacement is written beside the old file and renamed over it only when complete, so a failure
      // leaves the old file as it was.
      if ((await lstatOrUndefined(finalPath))?.isDirectory() === true) {
        throw new SluiceError('E_EXISTS', 'a directory is in the way of this file', { path });
      }
      const slash = finalPath.lastIndexOf('/');
      const tempPath = `${finalPath.slice(0, slash + 1)}.${finalPath.slice(slash + 1, slash + 1 + 64)}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
      file = new OutputFileImpl(path, finalPath, tempPath, await this.#openFile(tempPath, flags), this, this.#options);
    }
    this.#open.add(file);
    return file;
  }

  async #openFile(fullPath: string, flags: number): Promise<WritableFile> {
    return this.#options.synchronousWrites === true ? SyncFile.open(fullPath, flags, 0o666) : open(fullPath, flags, 0o666);
  }

  async mkdir(path: SafePath, meta?: { mode?: number; mtimeMs?: number }): Promise<void> {
    await this.#ensureDirectory(path, true, path);
    if (this.#options.preserveMetadata === false) return;
    if (meta?.mode !== undefined) await chmod(this.resolve(path), meta.mode & 0o7777);
    if (meta?.mtimeMs !== undefined) this.#directoryTimes.push({ path, mtimeMs: meta.mtimeMs });
  }

  /** Applies deferred directory times, deepest first. Call once everything is written. */
  async finish(): Promise<void> {
    const byDepth = [...this.#directoryTimes].sort((a, b) => b.path.split('/').length - a.path.split('/').length);
    for (const { path, mtimeMs } of byDepth) {
      const when = new Date(mtimeMs);
      await utimes(this.resolve(path), when, when).catch(() => undefined);
    }
    this.#directoryTimes.length = 0;
  }

  async symlink(path: SafePath, target: string, meta?: { mtimeMs?: number }): Promise<void> {
    await this.#ensureDirectory(parentOf(path), true, path);
    const full = this.resolve(path);
    const existing = await lstatOrUndefined(full);
    if (existing !== undefined) {
      if (this.#options.overwrite !== true || existing.isDirectory()) {
        throw new SluiceError('E_EXISTS', 'something already exists where this symlink goes', { path });
      }
      await unlink(full);
    }
    // The link is created as data; later paths that would pass through it are refused by #ensureDirectory.
    await symlink(target, full);
    if (meta?.mtimeMs !== undefined && this.#options.preserveMetadata !== false) {
      const when = new Date(meta.mtimeMs);
      await lutimes(full, when, when).catch(() => undefined);
    }
  }

  /** Deletes a file or symlink (never a directory, never through a symlink). Returns false if it was absent. */
  async remove(path: SafePath): Promise<boolean> {
    await this.#ensureDirectory(parentOf(path), false, path);
    const full = this.resolve(path);
    const st = await lstatOrUndefined(full);
    if (st === undefined) return false;
    if (st.isDirectory()) throw new SluiceError('E_IS_DIRECTORY', 'refusing to remove a directory', { path });
    await unlink(full);
    return true;
  }

  async rename(from: SafePath, to: SafePath): Promise<void> {
    await this.#ensureDirectory(parentOf(from), false, from);
    await this.#ensureDirectory(parentOf(to), true, to);
    const st = await lstatOrUndefined(this.resolve(from));
    if (st === undefined) throw new SluiceError('E_MISSING', `cannot rename a file that does not exist (to ${JSON.stringify(to)})`, { path: from });
    if (st.isDirectory()) this.#verified.clear();
    await rename(this.resolve(from), this.resolve(to));
  }

  /** Writes one entry (a file's content is consumed in order). */
  async writeEntry(entry: Entry): Promise<void> {
    if (entry.kind === 'dir') return this.mkdir(entry.path, entry);
    if (entry.kind === 'symlink') return this.symlink(entry.path, entry.target, entry);
    const file = await this.openFile(entry.path);
    try {
      let position = 0;
      for await (const piece of entry.content) {
        await file.write(piece, position);
        position += piece.length;
      }
      await file.commit(entry);
    } catch (err) {
      await file.abort();
      throw err;
    }
  }

  /** Removes the temporary files of everything not committed; returns their final names. */
  async abortAll(): Promise<SafePath[]> {
    const aborted = [...this.#open];
    await Promise.allSettled(aborted.map((f) => f.abort()));
    return aborted.map((f) => f.path);
  }

  /** @internal */
  closed(file: OutputFileImpl): void {
    this.#open.delete(file);
  }

  /**
   * Makes sure `dir` (relative) is a real directory inside the root, creating missing levels when asked.
   * Any existing component that is not a directory (a symlink above all) is refused.
   */
  async #ensureDirectory(dir: SafePath | undefined, create: boolean, forPath: SafePath): Promise<void> {
    if (dir === undefined || this.#verified.has(dir)) return;
    const parts = dir.split('/');
    let rel = '';
    for (const part of parts) {
      rel = rel === '' ? part : `${rel}/${part}`;
      if (this.#verified.has(rel)) continue;
      const full = join(this.#root, rel);
      let st = await lstatOrUndefined(full);
      if (st === undefined && create) {
        try {
          await mkdir(full, 0o777);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        st = await lstatOrUndefined(full);
      }
      if (st === undefined) {
        throw new SluiceError('E_MISSING', `directory ${JSON.stringify(rel)} does not exist`, { path: forPath });
      }
      if (st.isSymbolicLink()) {
        throw new UnsafePathError('E_UNSAFE_PATH', `refusing to pass through the symlink ${JSON.stringify(rel)}`, { path: forPath });
      }
      if (!st.isDirectory()) {
        throw new SluiceError('E_NOT_A_DIRECTORY', `${JSON.stringify(rel)} is not a directory`, { path: forPath });
      }
      this.#verified.add(rel);
    }
  }

}

class OutputFileImpl implements OutputFile {
  #fh: WritableFile | undefined;
  /** Set once the file is complete under its final name: from then on it is never removed. */
  #committed = false;
  #aborted = false;
  #end = 0;

  constructor(
    readonly path: SafePath,
    readonly finalPath: string,
    /** Set when replacing: the file is written here and renamed over `finalPath` on commit. */
    readonly tempPath: string | undefined,
    fh: WritableFile,
    readonly sink: DirectorySink,
    readonly options: DirSinkOptions,
  ) {
    this.#fh = fh;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    const fh = this.#fh;
    if (fh === undefined) throw new SluiceError('E_CLOSED', 'write after the file was closed', { path: this.path });
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
    this.#end = Math.max(this.#end, position + data.length);
  }

  async writev(pieces: Uint8Array[], position: number): Promise<void> {
    const fh = this.#fh;
    if (fh === undefined) throw new SluiceError('E_CLOSED', 'write after the file was closed', { path: this.path });
    let at = position;
    let rest = pieces;
    while (rest.length > 0) {
      const { bytesWritten } = await fh.writev(rest, at);
      at += bytesWritten;
      rest = skipBytes(rest, bytesWritten);
    }
    this.#end = Math.max(this.#end, at);
  }

  async commit(meta: { mode?: number; mtimeMs?: number; uid?: number; gid?: number; minSize?: number } = {}): Promise<void> {
    const fh = this.#fh;
    if (fh === undefined) throw new SluiceError('E_CLOSED', 'commit after the file was closed', { path: this.path });
    try {
      const size = Math.max(this.#end, meta.minSize ?? 0);
      if (size > this.#end) await fh.truncate(size);
      const preserve = this.options.preserveMetadata !== false;
      if (preserve && meta.mode !== undefined) await fh.chmod(meta.mode & 0o7777);
      if (this.options.preserveOwner === true && meta.uid !== undefined && meta.gid !== undefined) {
        await fh.chown(meta.uid, meta.gid).catch(() => undefined);
      }
      await fh.close();
      this.#fh = undefined;
      if (this.tempPath !== undefined) await rename(this.tempPath, this.finalPath);
      this.#committed = true;
      if (preserve && meta.mtimeMs !== undefined) {
        const when = new Date(meta.mtimeMs);
        await utimes(this.finalPath, when, when);
      }
    } catch (err) {
      await this.abort();
      throw err;
    }
    this.sink.closed(this);
  }

  async abort(): Promise<void> {
    if (this.#aborted) return;
    this.#aborted = true;
    const fh = this.#fh;
    this.#fh = undefined;
    this.sink.closed(this);
    await fh?.close().catch(() => undefined);
    // Only ever a file this sink created (O_EXCL), never one that was there before.
    if (!this.#committed) await unlink(this.tempPath ?? this.finalPath).catch(() => undefined);
  }
}

/** The pieces left after the first `n` bytes (a short writev). */
function skipBytes(pieces: Uint8Array[], n: number): Uint8Array[] {
  let left = n;
  let i = 0;
  while (i < pieces.length && left >= (pieces[i] as Uint8Array).length) {
    left -= (pieces[i] as Uint8Array).length;
    i += 1;
  }
  if (i === pieces.length) return [];
  return [(pieces[i] as Uint8Array).subarray(left), ...pieces.slice(i + 1)];
}

async function lstatOrUndefined(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

