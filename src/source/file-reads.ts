/**
 * What a file reader does with each request, with synchronous calls: open a file on first use, read into a
 * block the main thread owns, close at the end of the file or when told. Reader threads run it
 * (file-reader-worker.ts), and so does the main thread itself for the first reads of a job, so that a
 * backup of a few small files never waits for a thread to start (see FileReader).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from '../bytes/crc32.js';

/**
 * Reads are done, and their CRC-32 computed, this much at a time: the CRC then runs over bytes still in
 * the core's cache instead of a whole block read back from memory by the main thread (decision log).
 */
const STEP_BYTES = 1 << 20;

export type ReaderRequest =
  | { type: 'read'; request: number; file: number; path: string; block: SharedArrayBuffer; position: number; length: number; crc: boolean }
  | { type: 'batch'; request: number; paths: string[]; block: SharedArrayBuffer; crc: boolean }
  | { type: 'close'; file: number };

/** Where a batched file landed in the block (and, if asked, the CRC-32 of its bytes), or null when it was left for a read of its own. */
export type BatchedFile = { offset: number; length: number; crc: number } | null;

export type ReaderReply =
  | { request: number; bytesRead: number; eof: boolean; crc: number }
  | { request: number; files: BatchedFile[] }
  | { request: number; error: { message: string; code?: string; errno?: number; syscall?: string } };

type ReadRequest = Extract<ReaderRequest, { type: 'read' }>;
type BatchRequest = Extract<ReaderRequest, { type: 'batch' }>;

/** The files one reader (a thread, or the main thread) holds open between requests, and its answers. */
export class SyncReads {
  readonly #open = new Map<number, number>();
  readonly #flags: number;

  /**
   * With `regularOnly` (the main thread, which must never block), files are opened non-blocking and a
   * read of anything but a regular file (a FIFO, a device) is declined, for a thread to do.
   */
  constructor(readonly options: { regularOnly?: boolean } = {}) {
    this.#flags = constants.O_RDONLY | constants.O_NOFOLLOW | (options.regularOnly === true ? constants.O_NONBLOCK : 0);
  }

  /** The reply to `message`, or undefined for a close (which has none) or a declined read. */
  handle(message: ReaderRequest): ReaderReply | undefined {
    if (message.type === 'close') {
      this.#close(message.file);
      return undefined;
    }
    if (message.type === 'batch') return this.#batch(message);
    return this.#read(message);
  }

  /** Closes every file still open (the reader is done). */
  closeAll(): void {
    for (const file of [...this.#open.keys()]) this.#close(file);
  }

  #batch(message: BatchRequest): ReaderReply {
    return { request: message.request, files: readBatch(message.paths, message.block, this.#flags, message.crc) };
  }

  #read(message: ReadRequest): ReaderReply | undefined {
    try {
      let fd = this.#open.get(message.file);
      if (fd === undefined) {
        fd = openSync(message.path, this.#flags);
        if (this.options.regularOnly === true && !fstatSync(fd).isFile()) {
          closeSync(fd);
          return undefined;
        }
        this.#open.set(message.file, fd);
      }
      // A regular file returns fewer bytes than asked only at its end.
      const { length: bytesRead, crc } = readAndCrc(fd, new Uint8Array(message.block), 0, message.length, message.position, message.crc);
      const eof = bytesRead < message.length;
      if (eof) this.#close(message.file);
      return { request: message.request, bytesRead, eof, crc };
    } catch (err) {
      this.#close(message.file);
      const e = err as NodeJS.ErrnoException;
      return { request: message.request, error: { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall } };
    }
  }

  #close(file: number): void {
    const fd = this.#open.get(file);
    if (fd === undefined) return;
    this.#open.delete(file);
    try {
      closeSync(fd);
    } catch {
      // a read-only descriptor: nothing can be lost
    }
  }
}

/**
 * Reads whole files side by side into one block, in order, while they fit. A file that does not fit,
 * is not a regular file, grew while being read or fails in any way is left out (null): its own read
 * then gives the usual result or error. Each file is read asking one byte more than its size, so that
 * the end shows.
 */
function readBatch(paths: string[], block: SharedArrayBuffer, flags: number, withCrc: boolean): BatchedFile[] {
  const bytes = new Uint8Array(block);
  let at = 0;
  return paths.map((path) => {
    let fd: number | undefined;
    try {
      fd = openSync(path, flags);
      const st = fstatSync(fd);
      if (!st.isFile() || st.size + 1 > bytes.length - at) return null;
      const { length, crc } = readAndCrc(fd, bytes, at, st.size + 1, 0, withCrc);
      if (length > st.size) return null;
      const file = { offset: at, length, crc };
      at += length;
      return file;
    } catch {
      return null;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  });
}

/**
 * Reads up to `length` bytes at `position` into `bytes` at `at` and, `withCrc`, the CRC-32 of what was
 * read (else 0), in steps of STEP_BYTES; the first short read ends it (a regular file returns fewer bytes
 * than asked only at its end), as one read of `length` would.
 */
function readAndCrc(fd: number, bytes: Uint8Array, at: number, length: number, position: number, withCrc: boolean): { length: number; crc: number } {
  if (!withCrc) return { length: readSync(fd, bytes, at, length, position), crc: 0 };
  let done = 0;
  let crc = 0;
  while (done < length) {
    const ask = Math.min(STEP_BYTES, length - done);
    const n = readSync(fd, bytes, at + done, ask, position + done);
    if (n > 0) crc = crc32(bytes.subarray(at + done, at + done + n), crc);
    done += n;
    if (n < ask) break;
  }
  return { length: done, crc };
}
