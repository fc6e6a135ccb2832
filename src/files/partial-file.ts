/**
 * Writing a file so that it appears whole or not at all: the bytes go to a partial file beside it (or in
 * a directory of the caller's, on the same filesystem), which is synced when asked, closed and only then
 * renamed (or otherwise published) to its final name. A failure removes the partial file; a killed
 * writer leaves only a partial file, recognisable by its name: `.NAME.sluice-partial-XXXXXXXXXXXX`.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What every partial file's name holds, between the final name and the random part. */
export const PARTIAL_MARK = '.sluice-partial-';
/** The part of the final name kept in the partial name (so it stays within NAME_MAX). */
const NAME_CHARS = 64;

/** A fresh partial name for `finalPath`, in `dir` (default: beside it). */
export function partialPathFor(finalPath: string, dir = dirname(finalPath)): string {
  return join(dir, `.${basename(finalPath).slice(0, NAME_CHARS)}${PARTIAL_MARK}${randomBytes(6).toString('hex')}`);
}

export interface PartialFileOptions {
  /** Where the partial file goes (default: beside the final file). */
  dir?: string;
  /** Permission bits of the new file (default 0o600: nobody reads it before it is complete). */
  mode?: number;
  /** Open flags added to O_WRONLY | O_CREAT | O_EXCL (for example O_NOFOLLOW). */
  flags?: number;
  /** fsync the data before the file is published (default true). */
  sync?: boolean;
}

export interface PublishOptions {
  /** Runs on the closed partial file before it is published (chmod, utimes). */
  prepare?: (partialPath: string) => Promise<void>;
  /** Gives the partial file its final name (default rename(2), replacing what is there). */
  publish?: (partialPath: string, finalPath: string) => Promise<void>;
}

/** A file being written under a partial name: write through `handle`, then `commit` or `abort`. */
export class PartialFile {
  #done = false;

  private constructor(
    readonly path: string,
    readonly handle: FileHandle,
    readonly sync: boolean,
  ) {}

  /** Creates the partial file of `finalPath` (a name the final file may not have yet: only its last part is used). */
  static async create(finalPath: string, options: PartialFileOptions = {}): Promise<PartialFile> {
    const path = partialPathFor(finalPath, options.dir);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (options.flags ?? 0);
    const handle = await open(path, flags, options.mode ?? 0o600);
    return new PartialFile(path, handle, options.sync ?? true);
  }

  /** Syncs (if asked), closes, prepares and publishes the file as `finalPath`; on any failure the partial file is removed. */
  async commit(finalPath: string, options: PublishOptions = {}): Promise<void> {
    if (this.#done) throw new Error('a partial file is committed or aborted once');
    this.#done = true;
    try {
      if (this.sync) await this.handle.sync();
      await this.handle.close();
      await options.prepare?.(this.path);
      await (options.publish ?? rename)(this.path, finalPath);
    } catch (err) {
      await this.handle.close().catch(() => undefined);
      await unlink(this.path).catch(() => undefined);
      throw err;
    }
  }

  /** Closes and removes the partial file. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.handle.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }
}

/** Writes `parts` to `finalPath` through a partial file (see PartialFile). */
export async function writeFileAtomic(
  finalPath: string,
  parts: Uint8Array | readonly Uint8Array[],
  options: PartialFileOptions & PublishOptions = {},
): Promise<void> {
  const file = await PartialFile.create(finalPath, options);
  try {
    await writeParts(file.handle, parts instanceof Uint8Array ? [parts] : parts);
  } catch (err) {
    await file.abort();
    throw err;
  }
  await file.commit(finalPath, options);
}

/** Writes the parts back to back from `start` with writev (batches of 256), finishing any short write part by part; returns the end position. */
export async function writeParts(fh: FileHandle, parts: readonly Uint8Array[], start = 0): Promise<number> {
  let position = start;
  for (let i = 0; i < parts.length; i += 256) {
    const batch = parts.slice(i, i + 256);
    const want = batch.reduce((n, p) => n + p.length, 0);
    const { bytesWritten } = await fh.writev(batch, position);
    let done = bytesWritten;
    if (done < want) {
      let skip = done;
      for (const part of batch) {
        if (skip >= part.length) {
          skip -= part.length;
          continue;
        }
        let at = skip;
        skip = 0;
        while (at < part.length) {
          const r = await fh.write(part, at, part.length - at, position + done);
          at += r.bytesWritten;
          done += r.bytesWritten;
        }
      }
    }
    position += want;
  }
  return position;
}
