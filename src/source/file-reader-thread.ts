/**
 * The worker side of FileReader: opens, reads and closes files with synchronous calls, one request at a
 * time, into shared blocks the main thread owns, and computes each block's CRC-32. A file stays open
 * between requests until it is read to the end or the main thread says it is no longer wanted.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { crc32 } from '../bytes/crc32.js';

export type ReaderRequest =
  | { type: 'read'; request: number; file: number; path: string; block: SharedArrayBuffer; position: number; length: number }
  | { type: 'close'; file: number };

export type ReaderReply =
  | { request: number; bytesRead: number; eof: boolean; crc: number }
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

parentPort?.on('message', (message: ReaderRequest) => {
  if (message.type === 'close') {
    closeFile(message.file);
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
    // Computed here, beside the read, so the main thread's xbstream writer need not.
    const crc = crc32(target.subarray(0, bytesRead));
    parentPort?.postMessage({ request: message.request, bytesRead, eof, crc } satisfies ReaderReply);
  } catch (err) {
    closeFile(message.file);
    const e = err as NodeJS.ErrnoException;
    parentPort?.postMessage({ request: message.request, error: { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall } } satisfies ReaderReply);
  }
});
