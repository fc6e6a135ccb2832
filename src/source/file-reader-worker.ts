/**
 * The worker side of FileReader: opens, reads and closes files with synchronous calls, one request at a
 * time, into shared blocks the main thread owns. A file stays open
 * between requests until it is read to the end or the main thread says it is no longer wanted.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

export type ReaderRequest =
  | { type: 'read'; request: number; file: number; path: string; block: SharedArrayBuffer; position: number; length: number }
  | { type: 'batch'; request: number; paths: string[]; block: SharedArrayBuffer }
  | { type: 'close'; file: number };

/** Where a batched file landed in the block, or null when it was left for a read of its own. */
export type BatchedFile = { offset: number; length: number } | null;

export type ReaderReply =
  | { request: number; bytesRead: number; eof: boolean }
  | { request: number; files: BatchedFile[] }
  | { request: number; error: { message: string; code?: string; errno?: number; syscall?: string } };

const open = new Map<number, number>();

function closeFile(file: number): void {
  const fd = open.get(file);
  if (fd === undefined) return;
  open.delete(file);
  try {
    closeSync(fd);
  } catch {
    // a read-only descriptor: nothing can be lost
  }
}

/**
 * Reads whole files side by side into one block, in order, while they fit. A file that does not fit,
 * is not a regular file, grew while being read or fails in any way is left out (null): its own read
 * then gives the usual result or error. Each file is read with one call, asking one byte more than its
 * size so that the end shows.
 */
function readBatch(paths: string[], block: SharedArrayBuffer): BatchedFile[] {
  const bytes = new Uint8Array(block);
  let at = 0;
  return paths.map((path) => {
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      const st = fstatSync(fd);
      if (!st.isFile() || st.size + 1 > bytes.length - at) return null;
      const length = readSync(fd, bytes, at, st.size + 1, 0);
      if (length > st.size) return null;
      const file = { offset: at, length };
      at += length;
      return file;
    } catch {
      return null;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  });
}

parentPort?.on('message', (message: ReaderRequest) => {
  if (message.type === 'close') {
    closeFile(message.file);
    return;
  }
  if (message.type === 'batch') {
    parentPort?.postMessage({ request: message.request, files: readBatch(message.paths, message.block) } satisfies ReaderReply);
    return;
  }
  try {
    let fd = open.get(message.file);
    if (fd === undefined) {
      fd = openSync(message.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      open.set(message.file, fd);
    }
    const target = new Uint8Array(message.block, 0, message.length);
    // A regular file returns fewer bytes than asked only at its end.
    const bytesRead = readSync(fd, target, 0, message.length, message.position);
    const eof = bytesRead < message.length;
    if (eof) closeFile(message.file);
    parentPort?.postMessage({ request: message.request, bytesRead, eof } satisfies ReaderReply);
  } catch (err) {
    closeFile(message.file);
    const e = err as NodeJS.ErrnoException;
    parentPort?.postMessage({ request: message.request, error: { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall } } satisfies ReaderReply);
  }
});
