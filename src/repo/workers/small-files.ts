/**
 * The crypto workers' side of storing small files in batches (see ContentWriter.saveSmallFiles).
 *
 * A tree of small files is mostly per-file cost: an open, a read and a close through the thread pool,
 * two hashes, a compression and an envelope each, and the promises around them. Here a worker takes a
 * batch of paths at once and reads each file with synchronous calls into one arena (reused between
 * batches), computes its SHA-256 and keyed id, and keeps the bytes until the main thread, having looked
 * the ids up in the index, names the files to seal; those come back as one buffer of envelopes.
 *
 * Files are opened with O_NOFOLLOW, as the directory source opens them: a file replaced by a symlink
 * since the walk is refused, not followed.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import type { ObjectKind } from '../format.js';
import { type BlobCodec, SEAL_ROOM_BYTES } from './blob-codec.js';

export type FileDigest =
  | { size: number; sha256: string; id: Uint8Array }
  /** Larger than the batch's limit (it grew since it was listed): to be stored as a stream. */
  | { tooLarge: true }
  | { error: { code: string; message: string } };

interface Batch {
  arena: Buffer;
  /** Where each file's bytes are in the arena (undefined: not read). */
  spans: ({ at: number; size: number; id: Uint8Array } | undefined)[];
}

/** Most batches kept read (waiting for their seal request) per worker; the main thread stays below it. */
const MAX_BATCHES = 8;
const batches = new Map<number, Batch>();
const freeArenas: Buffer[] = [];

function takeArena(bytes: number): Buffer {
  const i = freeArenas.findIndex((a) => a.length >= bytes);
  if (i >= 0) return freeArenas.splice(i, 1)[0] as Buffer;
  return Buffer.allocUnsafeSlow(Math.max(bytes, 1 << 20));
}

function giveArena(arena: Buffer): void {
  if (freeArenas.length < 4) freeArenas.push(arena);
}

/** Reads each file (at most `maxBytes`) and hashes it; the bytes stay here under `batch`. */
export function readFiles(batch: number, paths: readonly string[], sizes: readonly number[], maxBytes: number, idKey: Buffer): FileDigest[] {
  if (batches.size >= MAX_BATCHES) throw new Error('too many small-file batches waiting to be sealed');
  let capacity = 0;
  for (const size of sizes) capacity += Math.min(Math.max(size, 0), maxBytes) + 1;
  let arena = takeArena(capacity);
  let at = 0;
  const spans: Batch['spans'] = [];
  const out: FileDigest[] = [];
  for (let i = 0; i < paths.length; i++) {
    let fd: number;
    try {
      fd = openSync(paths[i] as string, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      spans.push(undefined);
      out.push({ error: errorOf(err) });
      continue;
    }
    const start = at;
    try {
      let tooLarge = false;
      for (;;) {
        // Room for the rest of the file and one byte more, so the end shows as a short read.
        if (arena.length - at < 64 * 1024 && at - start <= maxBytes) {
          const grown = takeArena(Math.max(arena.length * 2, at + maxBytes + 1));
          arena.copy(grown, 0, 0, at);
          giveArena(arena);
          arena = grown;
        }
        const want = Math.min(arena.length - at, maxBytes + 1 - (at - start));
        const n = readSync(fd, arena, at, want, null);
        at += n;
        if (at - start > maxBytes) {
          tooLarge = true;
          break;
        }
        if (n === 0) break;
      }
      if (tooLarge) {
        at = start;
        spans.push(undefined);
        out.push({ tooLarge: true });
        continue;
      }
      const data = arena.subarray(start, at);
      const id = new Uint8Array(Blake3Hasher.newKeyed(idKey).update(data).digestBuffer());
      spans.push({ at: start, size: at - start, id });
      out.push({ size: at - start, sha256: createHash('sha256').update(data).digest('hex'), id });
    } catch (err) {
      at = start;
      spans.push(undefined);
      out.push({ error: errorOf(err) });
    } finally {
      closeSync(fd);
    }
  }
  batches.set(batch, { arena, spans });
  return out;
}

/**
 * Seals the files `indices` of a batch read before (and forgets the batch). Returns their envelopes
 * back to back in one buffer, with each one's length.
 */
export function sealFiles(
  batch: number,
  indices: readonly number[],
  kind: ObjectKind,
  level: number,
  codec: BlobCodec,
  release?: (piece: Uint8Array) => void,
): { envelopes: Uint8Array; lengths: number[] } {
  const b = batches.get(batch);
  if (b === undefined) throw new Error(`small-file batch ${batch} is not here`);
  batches.delete(batch);
  try {
    let capacity = 0;
    for (const i of indices) capacity += (b.spans[i]?.size ?? 0) + SEAL_ROOM_BYTES;
    // Sealed straight into the buffer that goes to the main thread: no buffer per file.
    const envelopes = new Uint8Array(capacity);
    const lengths: number[] = [];
    let at = 0;
    for (const i of indices) {
      const span = b.spans[i];
      if (span === undefined) throw new Error(`file ${i} of small-file batch ${batch} was not read`);
      const { length } = codec.sealTo(kind, span.id, b.arena.subarray(span.at, span.at + span.size), envelopes.subarray(at), level, release);
      lengths.push(length);
      at += length;
    }
    return { envelopes, lengths };
  } finally {
    giveArena(b.arena);
  }
}

function errorOf(err: unknown): { code: string; message: string } {
  const e = err as NodeJS.ErrnoException;
  return { code: typeof e.code === 'string' ? e.code : 'E_READ', message: e.message ?? String(err) };
}
