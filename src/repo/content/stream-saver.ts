/**
 * Stores one byte stream (a file, stdin, a command's output) as data blobs; returns its chunk ids,
 * length and SHA-256.
 *
 * The main thread only cuts chunks (copying each input byte once, into a shared slot). For each chunk the
 * hashing worker feeds the stream's SHA-256 (in order) while a sealing worker computes the keyed id; a
 * known id is done, a new one is compressed and sealed (by a sealing worker) and goes into a pack. A slot is released only when its
 * chunk is in a pack, so the slots bound everything in flight: memory does not grow with the input.
 */
import { ID_BYTES, ObjectKind } from '../format.js';
import type { CryptoPool } from '../workers/crypto-pool.js';
import type { BlobWriter } from './blob-writer.js';
import { Chunker, type ChunkerParams } from './chunker.js';
import type { SlotPool } from './slot-pool.js';

export interface SavedStream {
  /** Chunk ids back to back (32 bytes each), in stream order. */
  ids: Uint8Array;
  chunks: number;
  size: number;
  sha256: string;
  /** Chunks and bytes this stream added to the repository (the rest were known). */
  newChunks: number;
  newBytes: number;
}

export interface StreamSaverDeps {
  writer: BlobWriter;
  pool: CryptoPool;
  slots: SlotPool;
  gear: Int32Array;
  chunker: ChunkerParams;
  level: number;
  /** Called with the length of each piece read (progress). */
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
}

class IdList {
  #bytes = new Uint8Array(64 * ID_BYTES);
  count = 0;

  set(index: number, id: Uint8Array): void {
    if ((index + 1) * ID_BYTES > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, (index + 1) * ID_BYTES));
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes.set(id, index * ID_BYTES);
    this.count = Math.max(this.count, index + 1);
  }

  bytes(): Uint8Array {
    return this.#bytes.slice(0, this.count * ID_BYTES);
  }
}

export async function saveStream(deps: StreamSaverDeps, source: AsyncIterable<Uint8Array>): Promise<SavedStream> {
  const { writer, pool, slots, level } = deps;
  const stream = pool.newStream();
  const chunker = new Chunker(deps.gear, deps.chunker);
  const ids = new IdList();
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  let chunks = 0;
  let size = 0;
  let newChunks = 0;
  let newBytes = 0;

  const dispatch = (slot: number, length: number): void => {
    const index = chunks++;
    // The stream digest (ordered, one worker) and the chunk id (any worker) run at once.
    const digested = pool.update(slot, length, stream);
    digested.catch(() => undefined);
    const task = (async () => {
      try {
        const id = await pool.id(slot, length);
        ids.set(index, id);
        if (writer.reserve(id)) {
          const sealed = await pool.seal(ObjectKind.data, id, { slot, length }, level);
          newChunks += 1;
          newBytes += length;
          await writer.add('data', id, sealed.parts, length);
        }
      } finally {
        await digested.catch(() => undefined);
        slots.release(slot);
      }
      await digested;
    })();
    inflight.add(task);
    task.then(
      () => inflight.delete(task),
      (err: unknown) => {
        inflight.delete(task);
        failure ??= err;
      },
    );
  };

  let slot = -1;
  let fill = 0;
  let view: Uint8Array = new Uint8Array(0);
  try {
    for await (const piece of source) {
      deps.signal?.throwIfAborted();
      if (failure !== undefined) break;
      size += piece.length;
      deps.onBytes?.(piece.length);
      let pos = 0;
      while (pos < piece.length) {
        if (slot < 0) {
          slot = await slots.acquire();
          fill = 0;
          view = slots.view(slot);
        }
        const end = chunker.next(piece, pos);
        view.set(piece.subarray(pos, end), fill);
        fill += end - pos;
        pos = end;
        if (chunker.cut) {
          dispatch(slot, fill);
          slot = -1;
        }
      }
    }
    if (failure === undefined && slot >= 0 && fill > 0) {
      dispatch(slot, fill);
      slot = -1;
    }
  } finally {
    if (slot >= 0) slots.release(slot);
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  }
  if (failure !== undefined) throw failure;
  const digest = await pool.digest(stream);
  return { ids: ids.bytes(), chunks, size, sha256: digest.sha256, newChunks, newBytes };
}
