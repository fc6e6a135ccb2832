/**
 * Encodes entries as a POSIX (pax) tar stream that GNU tar reads. Headers, long names and large sizes
 * are encoded by node-tar's Header and Pax; bodies are streamed here so memory stays flat.
 *
 * tar needs each file's size before its body. Entries without a known size (stdin, compressed content)
 * are first spooled to a temporary file, never to memory.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Header, Pax } from 'tar';
import type { Entry, FileEntry } from '../../entry.js';

const BLOCK = 512;
const ZEROS = Buffer.alloc(BLOCK * 2);

export interface TarWriterOptions {
  /** Directory for spooling files of unknown size. */
  spoolDirectory: string;
  onFile?: (path: string, size: number) => void;
  /** A file's content did not match the size it had when the walk saw it. */
  onWarning?: (path: string, message: string) => void;
}

export async function* writeTar(entries: AsyncIterable<Entry>, options: TarWriterOptions): AsyncGenerator<Uint8Array> {
  for await (const entry of entries) {
    if (entry.kind === 'dir') {
      yield* header(entry, { path: `${entry.path}/`, type: 'Directory', size: 0 });
    } else if (entry.kind === 'symlink') {
      yield* header(entry, { path: entry.path, type: 'SymbolicLink', linkpath: entry.target, size: 0 });
    } else if (entry.size === undefined) {
      yield* spooled(entry, options);
    } else {
      yield* header(entry, { path: entry.path, type: 'File', size: entry.size });
      yield* body(entry, entry.size, options);
    }
  }
  yield ZEROS;
}

function* header(entry: Entry, data: { path: string; type: 'File' | 'Directory' | 'SymbolicLink'; size: number; linkpath?: string }): Generator<Uint8Array> {
  const fields = {
    ...data,
    mode: entry.mode,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: new Date(Math.floor(entry.mtimeMs / 1000) * 1000),
  };
  const h = new Header(fields);
  if (h.encode()) {
    // Fields that do not fit the ustar header (long names, huge sizes) go in a pax extended header first.
    yield new Pax({ path: data.path, linkpath: data.linkpath, size: data.size, mtime: fields.mtime, uid: fields.uid, gid: fields.gid }).encode();
  }
  yield h.block as Buffer;
}

/** Exactly `size` bytes of content: a file that shrank is padded with zeros, one that grew is cut. */
async function* body(entry: FileEntry, size: number, options: TarWriterOptions): AsyncGenerator<Uint8Array> {
  let written = 0;
  for await (const piece of entry.content) {
    const room = size - written;
    if (piece.length > room) {
      if (room > 0) yield piece.subarray(0, room);
      written = size;
      options.onWarning?.(entry.path, `file grew while it was read; stored its first ${size} bytes`);
      break;
    }
    written += piece.length;
    yield piece;
  }
  if (written < size) {
    options.onWarning?.(entry.path, `file shrank while it was read (${written} of ${size} bytes); padded with zeros`);
    for (let left = size - written; left > 0; left -= Math.min(left, 1 << 20)) yield Buffer.alloc(Math.min(left, 1 << 20));
  }
  const padding = (BLOCK - (size % BLOCK)) % BLOCK;
  if (padding > 0) yield ZEROS.subarray(0, padding);
  options.onFile?.(entry.path, size);
}

async function* spooled(entry: FileEntry, options: TarWriterOptions): AsyncGenerator<Uint8Array> {
  const spoolPath = join(options.spoolDirectory, `sluice-spool-${randomBytes(8).toString('hex')}`);
  const fh = await open(spoolPath, 'wx+', 0o600);
  try {
    let size = 0;
    for await (const piece of entry.content) {
      let done = 0;
      while (done < piece.length) done += (await fh.write(piece, done, piece.length - done, size + done)).bytesWritten;
      size += piece.length;
    }
    await fh.close();
    const content = createReadStream(spoolPath, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>;
    yield* header(entry, { path: entry.path, type: 'File', size });
    yield* body({ ...entry, content, size }, size, options);
  } finally {
    await fh.close().catch(() => undefined);
    await unlink(spoolPath).catch(() => undefined);
  }
}
