/**
 * Where chunks come from: cut on the main thread from any async iterable of bytes, or cut by a worker
 * that reads a file descriptor itself (stdin: the main thread then only orchestrates). Both fill slots of
 * the same SlotPool and yield finished chunks in stream order.
 */
import { SluiceError } from '../../errors.js';
import { WorkerChannel } from '../../threads/worker-channel.js';
import type { ChunkReaderEvent, ChunkReaderMessage } from './chunk-reader-protocol.js';
import { Chunker, type ChunkerParams } from './chunker.js';
import { type ChunkRef, SlotCutter } from './slot-cutter.js';
import type { SlotPool } from './slot-pool.js';

export type { ChunkRef } from './slot-cutter.js';

export interface ChunkSource {
  chunks: AsyncIterable<ChunkRef>;
  /** Bytes read so far. */
  readonly bytes: number;
}

/** Cuts `source` on this thread (copying its pieces into the slots, where they are scanned). */
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
    const cutter = new SlotCutter(new Chunker(gear, params, slots.useGear(gear)), (slot) => slots.view(slot));
    try {
      for await (const piece of source) {
        signal?.throwIfAborted();
        state.bytes += piece.length;
        onBytes?.(piece.length);
        let pos = 0;
        while (pos < piece.length) {
          if (!cutter.hasSlot) cutter.setSlot(await slots.acquire());
          const chunk = cutter.cut();
          if (chunk !== undefined) {
            yield chunk;
            continue;
          }
          const n = Math.min(cutter.target().max, piece.length - pos);
          cutter.append(piece.subarray(pos, pos + n));
          pos += n;
        }
      }
      for (;;) {
        if (!cutter.hasSlot) {
          if (!cutter.hasCarry) break;
          cutter.setSlot(await slots.acquire());
        }
        const chunk = cutter.cut();
        if (chunk !== undefined) {
          yield chunk;
          continue;
        }
        const last = cutter.finish();
        if (last.unused !== undefined) slots.release(last.unused);
        if (last.chunk !== undefined) yield last.chunk;
        break;
      }
    } finally {
      const held = cutter.takeSlot();
      if (held !== undefined) slots.release(held);
    }
  }
  return {
    chunks: run(),
    get bytes() {
      return state.bytes;
    },
  };
}

const READER_URL = new URL('./chunk-reader-worker.js', import.meta.url);

/**
 * The thread that reads and cuts a file descriptor (stdin), started early: its module loads while the
 * password is checked, and it waits for its setup (slots, gear table) from `workerChunks`.
 */
export class FdReader {
  /** The thread sends events (chunks, the end), not replies: no request waits on it, the consumer does. */
  readonly #channel: WorkerChannel;
  readonly #events: ChunkReaderEvent[] = [];
  #wake: (() => void) | undefined;
  #used = false;

  constructor(readonly fd: number) {
    this.#channel = new WorkerChannel(READER_URL, {
      name: 'stdin reader',
      workerData: { fd },
      keepAlive: 'always',
      onMessage: (e) => {
        this.#events.push(e as ChunkReaderEvent);
        this.#notify();
      },
      onFailure: () => this.#notify(),
    });
  }

  #notify(): void {
    this.#wake?.();
    this.#wake = undefined;
  }

  post(message: ChunkReaderMessage): void {
    if (this.#channel.failure === undefined) this.#channel.post(message); // a failed reader shows in next()
  }

  /** The next event, waiting for one; throws when the thread failed. */
  async next(): Promise<ChunkReaderEvent> {
    for (;;) {
      const event = this.#events.shift();
      if (event !== undefined) return event;
      const failure = this.#channel.failure;
      if (failure !== undefined) throw failure;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** Marks the reader as consumed (a descriptor is read once). */
  use(): void {
    if (this.#used) throw new Error('this reader was used already');
    this.#used = true;
  }

  async close(): Promise<void> {
    await this.#channel.terminate(new Error('the stdin reader was stopped'));
  }
}

/** Cuts what a file descriptor delivers on a worker thread (`reader`: started earlier, or a descriptor). */
export function workerChunks(
  source: FdReader | number,
  slots: SlotPool,
  gear: Int32Array,
  params: ChunkerParams,
  onBytes?: (n: number) => void,
  signal?: AbortSignal,
): ChunkSource {
  const state = { bytes: 0 };
  async function* run(): AsyncGenerator<ChunkRef> {
    const reader = typeof source === 'number' ? new FdReader(source) : source;
    reader.use();
    slots.useGear(gear);
    reader.post({
      setup: { slots: slots.buffer, ...(slots.memory === undefined ? {} : { memory: slots.memory }), slotBase: slots.base, slotBytes: slots.slotBytes, gear, chunker: params },
    });
    // Grant every free slot to the reader, now and whenever one is released. Slots granted and not (yet)
    // announced as chunks are tracked here, so none is lost when the reader ends or fails.
    let ended = false;
    const outstanding = new Set<number>();
    const grant = (): void => {
      if (ended) return;
      for (let slot = slots.tryAcquire(); slot !== undefined; slot = slots.tryAcquire()) {
        outstanding.add(slot);
        reader.post({ grant: slot });
      }
    };
    const previous = slots.onFree;
    slots.onFree = grant;
    grant();
    try {
      for (;;) {
        signal?.throwIfAborted();
        const event = await reader.next();
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
      await reader.close();
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
