/**
 * The life of a codec block, in one place: how a file's bytes are cut into blocks, travel to a worker
 * and back, and are handed on. Every change of owner of a block's memory happens in this file.
 *
 *   source chunk ──copied──▶ input block ──moved──▶ worker ──moved back──▶ input block: free again
 *                 release()                         │
 *                                 output block ◀────┘ (moved there and back beside the input)
 *                                      │ lent to the consumer, which calls recycle() once it no longer
 *                                      ▼ reads it (after copying or writing it): free again
 *
 * Rules, each kept by the code below:
 * 1. A source chunk is released (the source may reuse its memory) only after its bytes are copied.
 * 2. A block buffer given to a worker is transferred, so it is detached here: nothing on this thread can
 *    read or write it until the worker hands it back. Shared memory is never given to a worker this way
 *    (see `compress.ts` for the one exception, a small shared read block used read-only by one job and
 *    released only when that job is done).
 * 3. Output is lent: the consumer, not the producer, says when a buffer is free, by `recycle()`. A
 *    producer never takes a buffer back on its own when the consumer asks for the next chunk (a consumer
 *    may hold several chunks before copying them).
 * 4. A buffer is free at most once: `BlockBuffers.give` refuses a buffer it already holds.
 */
import { copyOf, concatBytes, transferOf } from '../bytes/copies.js';
import type { BlockPool } from './pool/block-pool.js';
import { orderedMap } from './pool/block-pool.js';
import type { CodecJob } from './pool/jobs.js';

/** Told that the consumer no longer reads `chunk`: its memory may be reused. Ignores chunks not its own. */
export type Release = (chunk: Uint8Array) => void;

export interface Block {
  /** A view at offset 0 of a buffer the block owns (safe to transfer to a worker). */
  bytes: Uint8Array;
  /** No block follows. */
  last: boolean;
  /** Offset of the block's first byte in the stream. */
  offset: number;
}

/**
 * Block buffers that came back, reused for the next blocks: touching fresh memory costs more than
 * compressing it at level 1 on some inputs (decision log, docs/architecture.md).
 */
export class BlockBuffers {
  readonly #free: ArrayBuffer[] = [];
  constructor(
    readonly blockBytes: number,
    readonly keep = 8,
  ) {}

  take(): Uint8Array {
    const buffer = this.#free.pop();
    return buffer !== undefined ? new Uint8Array(buffer) : new Uint8Array(new ArrayBuffer(this.blockBytes));
  }

  /** Takes back a buffer nobody reads any more; buffers of another size or kind are left to the GC. */
  give(bytes: Uint8Array | undefined): void {
    if (bytes === undefined) return;
    const buffer = bytes.buffer;
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== this.blockBytes) return;
    if (this.#free.includes(buffer)) throw new Error('internal error: a block buffer was given back twice');
    if (this.#free.length < this.keep) this.#free.push(buffer);
  }
}

/** Whether a block is worth a reusable output buffer (small blocks get output of their own size). */
export function isLargeBlock(block: Block, buffers: BlockBuffers): boolean {
  return block.bytes.length > buffers.blockBytes / 4;
}

/**
 * Cuts `source` into blocks of exactly `buffers.blockBytes` bytes (the last may be shorter), each
 * copied into a buffer of its own; each source chunk is released once copied (rule 1). A full block is
 * yielded only when the next byte arrives or the input ends, so `last` is always known. An empty input
 * yields no block.
 *
 * A stream that stays small (a quarter block or less: most files of a tree) never takes a block
 * buffer: it is copied into a buffer of its own size. Moving a whole block buffer to a worker and back
 * counts, for V8's GC, as a new allocation of its full size, which for thousands of small files meant
 * a full collection every few files.
 */
export async function* cutBlocks(source: AsyncIterable<Uint8Array>, buffers: BlockBuffers, release?: Release): AsyncGenerator<Block> {
  const size = buffers.blockBytes;
  const small = size / 4;
  let start: Uint8Array[] = [];
  let startBytes = 0;
  let block: Uint8Array | undefined;
  let fill = 0;
  let offset = 0;
  for await (const chunk of source) {
    if (block === undefined && offset === 0 && startBytes + chunk.length <= small) {
      start.push(copyOf(chunk));
      startBytes += chunk.length;
      release?.(chunk);
      continue;
    }
    if (start.length > 0) {
      block = buffers.take();
      fill = 0;
      for (const piece of start) {
        block.set(piece, fill);
        fill += piece.length;
      }
      start = [];
      startBytes = 0;
    }
    let pos = 0;
    while (pos < chunk.length) {
      if (block !== undefined && fill === size) {
        yield { bytes: block, last: false, offset };
        offset += size;
        block = undefined;
      }
      if (block === undefined) {
        block = buffers.take();
        fill = 0;
      }
      const n = Math.min(size - fill, chunk.length - pos);
      block.set(chunk.subarray(pos, pos + n), fill);
      fill += n;
      pos += n;
    }
    release?.(chunk);
  }
  if (start.length > 0) {
    yield { bytes: start.length === 1 ? (start[0] as Uint8Array) : concatBytes(start, startBytes), last: true, offset: 0 };
  } else if (block !== undefined && fill > 0 && fill <= small) {
    const exact = copyOf(block.subarray(0, fill)); // a short last block of a large stream, likewise
    buffers.give(block);
    yield { bytes: exact, last: true, offset };
  } else if (block !== undefined && fill > 0) yield { bytes: block.subarray(0, fill), last: true, offset };
  else buffers.give(block);
}

/**
 * Reads the start of a stream to see whether it is one small chunk (at most `small` bytes) and nothing
 * else, the case of most files in a tree, which then skip the block machinery. Otherwise the stream
 * continues, unchanged, in `rest`. The chunks read ahead are neither copied nor released here: whoever
 * consumes `whole` or `rest` releases them (rule 3 is why a producer must not recycle them meanwhile).
 */
export async function smallStream(
  source: AsyncIterable<Uint8Array>,
  small: number,
): Promise<{ whole: Uint8Array | undefined; empty: boolean; rest: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) return { whole: undefined, empty: true, rest: (async function* () {})() };
  const read: Uint8Array[] = [first.value];
  if (first.value.length <= small) {
    const second = await it.next();
    if (second.done === true) return { whole: first.value, empty: false, rest: (async function* () {})() };
    read.push(second.value);
  }
  async function* rest(): AsyncGenerator<Uint8Array> {
    let done = false;
    try {
      yield* read.splice(0);
      for (;;) {
        const next = await it.next();
        if (next.done === true) {
          done = true;
          return;
        }
        yield next.value;
      }
    } finally {
      if (!done) await it.return?.();
    }
  }
  return { whole: undefined, empty: false, rest: rest() };
}

export interface EncodeBlocksOptions {
  pool: BlockPool;
  /** Where input blocks come from and go back to. */
  inputs: BlockBuffers;
  /** Where output blocks come from; the consumer gives them back through the producer's `recycle`. */
  outputs: BlockBuffers;
  /** Blocks of one stream in flight at once. */
  window: number;
  /** The source's release, called for each source chunk once copied. */
  release?: Release;
  /** The job for a block, writing into `output` when one is given. */
  job(block: Block, output: Uint8Array | undefined): CodecJob;
  /** The error to report for a failed block. */
  failure(err: unknown, block: Block): unknown;
}

/**
 * Encodes a stream block by block on the pool, in order: each block's output is yielded lent (rule 3),
 * to be given back with `outputs.give` by whoever consumes it.
 */
export function encodeBlocks(content: AsyncIterable<Uint8Array>, o: EncodeBlocksOptions): AsyncGenerator<Uint8Array> {
  return orderedMap(cutBlocks(content, o.inputs, o.release), o.window, async (block) => {
    const output = isLargeBlock(block, o.inputs) ? o.outputs.take() : undefined;
    const transfer = output === undefined ? transferOf(block.bytes) : [...transferOf(block.bytes), ...transferOf(output)];
    try {
      const result = await o.pool.run(o.job(block, output), transfer);
      o.inputs.give(result.recycled);
      return result.output;
    } catch (err) {
      throw o.failure(err, block);
    }
  });
}

/**
 * Where a transform's output can go without fresh memory: blocks lent by the caller's buffer pool and
 * given back by the final sink once written (the CLI passes the pool its directory source reads into).
 */
export interface OutputBlocks {
  readonly blockBytes: number;
  take(): Uint8Array;
  /** Records the exact view of a taken block that is about to be yielded. */
  lend(block: Uint8Array, view: Uint8Array): void;
  /** Returns a taken block that was never lent. */
  putBack(block: Uint8Array): void;
}

/**
 * Gathers a stream into blocks of exactly `blocks.blockBytes` bytes (the last may be shorter) taken from
 * the caller's pool: a container that cuts streams into chunks of that size passes them through without
 * copying, and the sink gives each back once written, so output costs one copy and no new memory.
 * Each piece of `source` is released once copied (rule 1).
 */
export async function* gatherInto(source: AsyncIterable<Uint8Array>, blocks: OutputBlocks, release?: Release): AsyncGenerator<Uint8Array> {
  const size = blocks.blockBytes;
  const small = size / 4;
  let start: Uint8Array[] = [];
  let startBytes = 0;
  let block: Uint8Array | undefined;
  let fill = 0;
  try {
    for await (const piece of source) {
      // a small output (most files of a tree) is never put in a pool block: see the end
      if (block === undefined && startBytes + piece.length <= small) {
        start.push(copyOf(piece));
        startBytes += piece.length;
        release?.(piece);
        continue;
      }
      if (start.length > 0) {
        block = blocks.take();
        for (const p of start) {
          block.set(p, fill);
          fill += p.length;
        }
        start = [];
        startBytes = 0;
      }
      let at = 0;
      while (at < piece.length) {
        block ??= blocks.take();
        const n = Math.min(size - fill, piece.length - at);
        block.set(piece.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === size) {
          const full = block;
          block = undefined;
          fill = 0;
          blocks.lend(full, full);
          yield full;
        }
      }
      release?.(piece);
    }
    if (start.length > 0) {
      yield start.length === 1 ? (start[0] as Uint8Array) : concatBytes(start, startBytes);
    } else if (block !== undefined && fill > 0 && fill <= small) {
      // a small tail gets a buffer of its own size rather than holding a whole pool block until written
      const exact = copyOf(block.subarray(0, fill));
      const spare = block;
      block = undefined;
      blocks.putBack(spare);
      yield exact;
    } else if (block !== undefined && fill > 0) {
      const last = block;
      block = undefined;
      const view = last.subarray(0, fill);
      blocks.lend(last, view);
      yield view;
    }
  } finally {
    if (block !== undefined) blocks.putBack(block);
  }
}
