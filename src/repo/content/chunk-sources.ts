/**
 * Where chunks come from: cut on the main thread from any async iterable of bytes, or cut by a worker
 * that reads a file descriptor itself (stdin: the main thread then only orchestrates). Both fill slots of
 * the same SlotPool and yield finished chunks in stream order.
 */
import { Worker } from 'node:worker_threads';
import { SluiceError } from '../../errors.js';
import type { ChunkReaderEvent, ChunkReaderSetup } from '../workers/chunk-reader-worker.js';
import { Chunker, type ChunkerParams } from './chunker.js';
import type { SlotPool } from './slot-pool.js';

export interface ChunkRef {
  slot: number;
  length: number;
}

export interface ChunkSource {
  chunks: AsyncIterable<ChunkRef>;
  /** Bytes read so far. */
  readonly bytes: number;
}

/** Cuts `source` on this thread. */
export function mainThreadChunks(
  source: AsyncIterable<Uint8Array>,
  slots: SlotPool,
  gear: Int32Array,
  params: ChunkerParams,
  onBytes?: (n: number) => void,
  signal?: AbortSignal,
): ChunkSource {
  const state = { bytes: 0 };
  async function* run(): AsyncGenerator<ChunkRef> {
    const chunker = new Chunker(gear, params);
    let slot = -1;
    let fill = 0;
    let view: Uint8Array = new Uint8Array(0);
    try {
      for await (const piece of source) {
        signal?.throwIfAborted();
        state.bytes += piece.length;
        onBytes?.(piece.length);
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
            const done = { slot, length: fill };
            slot = -1;
            yield done;
          }
        }
      }
      if (slot >= 0 && fill > 0) {
        const done = { slot, length: fill };
        slot = -1;
        yield done;
      }
    } finally {
      if (slot >= 0) slots.release(slot);
    }
  }
  return {
    chunks: run(),
    get bytes() {
      return state.bytes;
    },
  };
}

const READER_URL = new URL('../workers/chunk-reader-worker.js', import.meta.url);

/** Cuts what file descriptor `fd` delivers on a worker thread. */
export function workerChunks(fd: number, slots: SlotPool, gear: Int32Array, params: ChunkerParams, onBytes?: (n: number) => void, signal?: AbortSignal): ChunkSource {
  const state = { bytes: 0 };
  async function* run(): AsyncGenerator<ChunkRef> {
    const setup: ChunkReaderSetup = { fd, slots: slots.buffer, slotBytes: slots.slotBytes, gear, chunker: params };
    const worker = new Worker(READER_URL, { workerData: setup });
    const events: ChunkReaderEvent[] = [];
    let wake: (() => void) | undefined;
    let failure: Error | undefined;
    const notify = (): void => {
      wake?.();
      wake = undefined;
    };
    worker.on('message', (e: ChunkReaderEvent) => {
      events.push(e);
      notify();
    });
    worker.on('error', (err: unknown) => {
      failure ??= err instanceof Error ? err : new Error(String(err));
      notify();
    });
    worker.on('exit', () => {
      failure ??= new Error('the stdin reader stopped');
      notify();
    });
    // Grant every free slot to the reader, now and whenever one is released. Slots granted and not (yet)
    // announced as chunks are tracked here, so none is lost when the reader ends or fails.
    let ended = false;
    const outstanding = new Set<number>();
    const grant = (): void => {
      if (ended) return;
      for (let slot = slots.tryAcquire(); slot !== undefined; slot = slots.tryAcquire()) {
        outstanding.add(slot);
        worker.postMessage({ grant: slot });
      }
    };
    const previous = slots.onFree;
    slots.onFree = grant;
    grant();
    try {
      for (;;) {
        signal?.throwIfAborted();
        const event = events.shift();
        if (event === undefined) {
          if (failure !== undefined) throw failure;
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        if ('error' in event) throw new SluiceError('E_READ', `reading stdin failed: ${event.error}`);
        if ('end' in event) {
          ended = true;
          onBytes?.(event.end.bytes - state.bytes);
          state.bytes = event.end.bytes;
          return;
        }
        onBytes?.(event.bytes - state.bytes);
        state.bytes = event.bytes;
        outstanding.delete(event.chunk.slot);
        yield event.chunk;
      }
    } finally {
      ended = true;
      slots.onFree = previous;
      await worker.terminate();
      // Whatever the reader held and did not hand over goes back (the thread is gone).
      for (const slot of outstanding) slots.release(slot);
    }
  }
  return {
    chunks: run(),
    get bytes() {
      return state.bytes;
    },
  };
}
