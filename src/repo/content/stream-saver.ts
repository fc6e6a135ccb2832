/**
 * Stores one byte stream (a file, stdin, a command's output) as data blobs; returns its chunk ids,
 * length and SHA-256.
 *
 * Chunks are cut into shared slots (by the stdin reader thread, or on this thread). For each chunk the
 * hashing worker feeds the stream's SHA-256 (in order) and computes the keyed id; a known id is done, a
 * new one is compressed and sealed by a sealing worker, its envelope written over the chunk in the slot,
 * and goes into a pack. A slot is released only when its chunk is in a pack, so the slots bound everything in flight: memory does not grow with the input.
 */
import { ID_BYTES, ObjectKind } from '../format.js';
import type { CryptoPool } from '../workers/crypto-pool.js';
import type { BlobWriter } from './blob-writer.js';
import type { ChunkRef, ChunkSource } from './chunk-sources.js';
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
  level: number;
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

/** Stores the chunks of `source` (cut on this thread or by a reader worker); see chunk-sources.ts. */
export async function saveStream(deps: StreamSaverDeps, source: ChunkSource): Promise<SavedStream> {
  const { writer, pool, slots, level } = deps;
  const stream = pool.newStream();
  const ids = new IdList();
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  let chunks = 0;
  let newChunks = 0;
  let newBytes = 0;

  const dispatch = ({ slot, length }: ChunkRef): void => {
    const index = chunks++;
    const task = (async () => {
      try {
        // The hashing worker feeds the stream digest (in dispatch order) and returns the chunk id.
        const id = await pool.hash(slot, length, stream);
        ids.set(index, id);
        if (writer.reserve(id)) {
          // The envelope is written over the chunk in its slot: no buffer per chunk. A writer that keeps
          // packs in memory gets a copy, since the slot is reused once released.
          const sealed = await pool.sealSlot(ObjectKind.data, id, slot, length, level);
          newChunks += 1;
          newBytes += length;
          const envelope = slots.view(slot, sealed.length);
          await writer.add('data', id, [writer.writesThrough ? envelope : Uint8Array.from(envelope)], length);
        }
      } finally {
        slots.release(slot);
      }
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

  try {
    for await (const chunk of source.chunks) {
      deps.signal?.throwIfAborted();
      dispatch(chunk);
      if (failure !== undefined) break;
    }
  } finally {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  }
  const digest = await pool.digest(stream);
  if (failure !== undefined) throw failure;
  const size = source.bytes;
  if (digest.bytes !== size) throw new Error(`internal error: digested ${digest.bytes} of ${size} bytes`);
  return { ids: ids.bytes(), chunks, size, sha256: digest.sha256, newChunks, newBytes };
}
