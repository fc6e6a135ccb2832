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
 * - At most `maxOpenFiles` descriptors stay open (DescriptorBudget): an idle file is closed and reopened
 *   on its next write, and refused if another file has taken its place meanwhile.
 */
import { constants } from 'node:fs';
import { chmod, lstat, lutimes, mkdir, open, realpath, rename, symlink, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { type Entry, type SafePath, parentOf } from '../entry.js';
import { SluiceError, UnsafePathError } from '../errors.js';
import { partialPathFor } from '../files/partial-file.js';
import { DescriptorBudget, type Suspendable } from './descriptor-budget.js';
import { type FileIdentity, SyncFile, type WritableFile } from './sync-file.js';

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
  /**
   * Most descriptors of output files kept open (default DEFAULT_MAX_OPEN_FILES); beyond it, the least
   * recently written file is closed and reopened when written again.
   */
  maxOpenFiles?: number;
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

export class DirectorySink {
  readonly #root: string;
  readonly #options: DirSinkOptions;
  /** Directories (relative) known to be real directories inside the root. */
  readonly #verified = new Set<string>();
  readonly #open = new Set<OutputFileImpl>();
  readonly #budget: DescriptorBudget;
  /** Directory times are applied last: writing into a directory changes its mtime. */
  readonly #directoryTimes: { path: SafePath; mtimeMs: number }[] = [];

  private constructor(root: string, options: DirSinkOptions) {
    this.#root = root;
    this.#options = options;
    this.#budget = new DescriptorBudget(options.maxOpenFiles);
  }

  /** Creates the target directory if needed; the target itself may be reached through a symlink. */
  static async create(root: string, options: DirSinkOptions = {}): Promise<DirectorySink> {
    await mkdir(root, { recursive: true });
    return new DirectorySink(await realpath(root), options);
  }

  get root(): string {
    return this.#root;
  }

  /** Whether existing files are replaced (`overwrite`). */
  get overwrites(): boolean {
    return this.#options.overwrite === true;
  }

  /** Whether something is at `path` (never looking through a symlink); false when a parent is missing. */
  async exists(path: SafePath): Promise<boolean> {
    try {
      await this.#ensureDirectory(parentOf(path), false, path);
    } catch (err) {
      if (err instanceof SluiceError && err.code === 'E_MISSING') return false;
      throw err;
    }
    return (await lstatOrUndefined(this.resolve(path))) !== undefined;
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
    const reopen = (fullPath: string): Promise<WritableFile> => this.#openFile(fullPath, constants.O_WRONLY | constants.O_NOFOLLOW);
    await this.#budget.reserve();
    let fh: WritableFile;
    let tempPath: string | undefined;
    if (this.#options.overwrite !== true && options.replace !== true) {
      // A new file is created under its final name (one open, as the peers do; O_EXCL makes the
      // existence check atomic and never follows a symlink) and removed again if it is not completed.
      try {
        fh = await this.#openFile(finalPath, flags);
      } catch (err) {
        this.#budget.failed();
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const note = options.existsNote !== undefined ? `; ${options.existsNote}` : '';
        const what = (await lstatOrUndefined(finalPath))?.isDirectory() === true ? 'a directory is in the way of this file' : `file already exists in the target directory (extract into an empty directory, or pass --overwrite)${note}`;
        throw new SluiceError('E_EXISTS', what, { path });
      }
    } else {
      // A replacement is written beside the old file and renamed over it only when complete, so a failure
      // leaves the old file as it was.
      try {
        if ((await lstatOrUndefined(finalPath))?.isDirectory() === true) {
          throw new SluiceError('E_EXISTS', 'a directory is in the way of this file', { path });
        }
        // this sink's own open (O_EXCL | O_NOFOLLOW, synchronous writes when asked), the shared partial name
        tempPath = partialPathFor(finalPath);
        fh = await this.#openFile(tempPath, flags);
      } catch (err) {
        this.#budget.failed();
        throw err;
      }
    }
    const file = new OutputFileImpl(path, finalPath, tempPath, fh, this, this.#options, this.#budget, reopen);
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
    if (st.isDirectory()) {
      // Files being written are found again by their path (see DescriptorBudget), and removed by it on failure.
      const inside = `${from}/`;
      const busy = [...this.#open].find((f) => f.path.startsWith(inside));
      if (busy !== undefined) {
        throw new SluiceError('E_OPEN_FILE', `cannot rename a directory holding ${JSON.stringify(busy.path)}, which is still being written`, { path: from });
      }
      this.#verified.clear();
    }
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
    return aborted.filter((f) => !f.lost).map((f) => f.path);
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

class OutputFileImpl implements OutputFile, Suspendable {
  /** Undefined while suspended (see DescriptorBudget) and once committed or aborted. */
  #fh: WritableFile | undefined;
  #reopening: Promise<WritableFile> | undefined;
  /** A suspension closing the descriptor; the file's identity is recorded first. */
  #suspending: Promise<void> | undefined;
  #identity: FileIdentity | undefined;
  /** Operations using the descriptor now. */
  #users = 0;
  /** Commit or abort has begun: no descriptor is opened again. */
  #finished = false;
  /** Set once the file is complete under its final name: from then on it is never removed. */
  #committed = false;
  #aborted = false;
  /** The path now names another file (it was replaced while suspended): never remove that one. */
  #lost = false;
  #end = 0;

  constructor(
    readonly path: SafePath,
    readonly finalPath: string,
    /** Set when replacing: the file is written here and renamed over `finalPath` on commit. */
    readonly tempPath: string | undefined,
    fh: WritableFile,
    readonly sink: DirectorySink,
    readonly options: DirSinkOptions,
    readonly budget: DescriptorBudget,
    /** Opens the file again (no O_CREAT, no symlink followed). */
    readonly reopen: (fullPath: string) => Promise<WritableFile>,
  ) {
    this.#fh = fh;
    budget.opened(this);
  }

  /** The path names another file now (see #reopen): it was not removed. */
  get lost(): boolean {
    return this.#lost;
  }

  get busy(): boolean {
    return this.#users > 0 || this.#reopening !== undefined;
  }

  async suspend(): Promise<void> {
    const fh = this.#fh;
    if (fh === undefined || this.busy) return;
    this.#fh = undefined;
    this.budget.closed(this);
    const suspending = (async () => {
      try {
        const { dev, ino, ctimeNs, size } = await fh.stat({ bigint: true });
        this.#identity = { dev, ino, ctimeNs, size };
      } finally {
        await fh.close();
      }
    })();
    this.#suspending = suspending;
    await suspending;
  }

  /** Runs `fn` with the descriptor, opening it again if it was suspended. */
  async #use<T>(fn: (fh: WritableFile) => Promise<T>): Promise<T> {
    this.#users += 1;
    try {
      return await fn(await this.#handle());
    } finally {
      this.#users -= 1;
    }
  }

  async #handle(): Promise<WritableFile> {
    if (this.#finished) throw new SluiceError('E_CLOSED', 'write after the file was closed', { path: this.path });
    if (this.#fh !== undefined) {
      this.budget.used(this);
      return this.#fh;
    }
    this.#reopening ??= this.#reopen().finally(() => {
      this.#reopening = undefined;
    });
    return this.#reopening;
  }

  async #reopen(): Promise<WritableFile> {
    await this.#suspending;
    await this.budget.reserve();
    let fh: WritableFile;
    try {
      fh = await this.reopen(this.tempPath ?? this.finalPath);
    } catch (err) {
      this.budget.failed();
      throw err;
    }
    this.#fh = fh;
    this.budget.opened(this);
    // Something may have taken the file's place while it was closed: never write into that.
    const now = await fh.stat({ bigint: true });
    const then = this.#identity;
    // An inode number is reused at once when a file is deleted: its change time and size tell the new one.
    const same = then !== undefined && now.dev === then.dev && now.ino === then.ino && now.ctimeNs === then.ctimeNs && now.size === then.size;
    if (this.#finished || !same) {
      this.#fh = undefined;
      this.budget.closed(this);
      await fh.close().catch(() => undefined);
      if (this.#finished) throw new SluiceError('E_CLOSED', 'write after the file was closed', { path: this.path });
      this.#lost = true;
      throw new SluiceError('E_REPLACED', 'the file was replaced by another while the extraction had it closed', { path: this.path });
    }
    return fh;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    await this.#use(async (fh) => {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
        done += bytesWritten;
      }
    });
    this.#end = Math.max(this.#end, position + data.length);
  }

  async writev(pieces: Uint8Array[], position: number): Promise<void> {
    const end = await this.#use(async (fh) => {
      let at = position;
      let rest = pieces;
      while (rest.length > 0) {
        const { bytesWritten } = await fh.writev(rest, at);
        at += bytesWritten;
        rest = skipBytes(rest, bytesWritten);
      }
      return at;
    });
    this.#end = Math.max(this.#end, end);
  }

  async commit(meta: { mode?: number; mtimeMs?: number; uid?: number; gid?: number; minSize?: number } = {}): Promise<void> {
    if (this.#finished) throw new SluiceError('E_CLOSED', 'commit after the file was closed', { path: this.path });
    try {
      const size = Math.max(this.#end, meta.minSize ?? 0);
      const preserve = this.options.preserveMetadata !== false;
      const chmod = preserve && meta.mode !== undefined;
      const chown = this.options.preserveOwner === true && meta.uid !== undefined && meta.gid !== undefined;
      // A suspended file whose data are all written needs no descriptor to be committed.
      if (this.#fh !== undefined || this.#reopening !== undefined || size > this.#end || chmod || chown) {
        await this.#use(async (fh) => {
          if (size > this.#end) await fh.truncate(size);
          if (chmod) await fh.chmod((meta.mode as number) & 0o7777);
          if (chown) await fh.chown(meta.uid as number, meta.gid as number).catch(() => undefined);
        });
      }
      this.#finished = true;
      const fh = this.#fh;
      this.#fh = undefined;
      this.budget.closed(this);
      await fh?.close();
      await this.#suspending;
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
    this.#finished = true;
    const fh = this.#fh;
    this.#fh = undefined;
    this.budget.closed(this);
    this.sink.closed(this);
    await fh?.close().catch(() => undefined);
    await this.#suspending?.catch(() => undefined);
    await this.#reopening?.catch(() => undefined);
    // Only ever a file this sink created (O_EXCL), never one that was there before.
    if (!this.#committed && !this.#lost) await unlink(this.tempPath ?? this.finalPath).catch(() => undefined);
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

