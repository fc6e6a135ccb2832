/**
 * Cutting a byte stream into fixed-size blocks, the unit a worker compresses or encrypts, and the
 * helpers the transforms share: reusable block buffers, job errors turned into located SluiceErrors.
 */
import { FormatError, IntegrityError, SluiceError, type Where } from '../errors.js';
import { JobError } from './pool/block-pool.js';

export interface Block {
  /** A view at offset 0 of a buffer the block owns (safe to transfer to a worker). */
  bytes: Uint8Array;
  /** No block follows. */
  last: boolean;
  /** Offset of the block's first byte in the stream. */
  offset: number;
}

/**
 * Block buffers handed back by workers, reused for the next blocks: fresh memory costs about a second
 * per GiB to touch on our machines, which is more than compressing it at level 1 on some inputs.
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

  give(bytes: Uint8Array | undefined): void {
    if (bytes === undefined) return;
    const buffer = bytes.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength === this.blockBytes && this.#free.length < this.keep) {
      this.#free.push(buffer);
    }
  }
}

/**
 * Cuts `source` into blocks of exactly `buffers.blockBytes` bytes (the last may be shorter), each
 * copied into a buffer of its own. A full block is released only when the next byte arrives or the
 * input ends, so `last` is always known. An empty input yields no block.
 *
 * A stream that stays small (a quarter block or less: most files of a tree) never takes a block
 * buffer: it is copied into a buffer of its own size. Moving a whole block buffer to a worker and back
 * counts, for V8's GC, as a new allocation of its full size, which for thousands of small files meant
 * a full collection every few files.
 */
export async function* cutBlocks(
  source: AsyncIterable<Uint8Array>,
  buffers: BlockBuffers,
  /** Told about each input chunk once it has been copied (so a source can recycle its read buffers). */
  release?: (chunk: Uint8Array) => void,
): AsyncGenerator<Block> {
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
 * continues, unchanged, in `rest`.
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

/** A copy in a buffer of its own (Buffer#slice would share memory). */
export function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

/** Whether a block is worth a reusable output buffer (small blocks get output of their own size). */
export function isLargeBlock(block: Block, buffers: BlockBuffers): boolean {
  return block.bytes.length > buffers.blockBytes / 4;
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
 */
export async function* gatherInto(source: AsyncIterable<Uint8Array>, blocks: OutputBlocks): AsyncGenerator<Uint8Array> {
  const size = blocks.blockBytes;
  const small = size / 4;
  let start: Uint8Array[] = [];
  let startBytes = 0;
  let block: Uint8Array | undefined;
  let fill = 0;
  try {
    for await (const piece of source) {
      // a small output (most files of a tree) is never put in a pool block: see the end
      if (block === undefined && start !== undefined && startBytes + piece.length <= small) {
        start.push(copyOf(piece));
        startBytes += piece.length;
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

/** The buffer of a view, for a transfer list (views made here always start at 0 of their own buffer). */
export function transferOf(bytes: Uint8Array): ArrayBuffer[] {
  return bytes.buffer instanceof ArrayBuffer && bytes.buffer.byteLength > 0 ? [bytes.buffer] : [];
}

/** Turns a worker's failure into an error naming the file and the place in it. */
export function codecError(err: unknown, what: string, where: Where): SluiceError | unknown {
  if (!(err instanceof JobError)) return err;
  const f = err.failure;
  const message = `${what}: ${f.message}`;
  return f.integrity === true ? new IntegrityError(f.code, message, where) : new FormatError(f.code, message, where);
}

/** Adds the file name to decoder errors that lack it (for example the ByteReader's truncation errors). */
export function locate(err: unknown, path: string): unknown {
  if (!(err instanceof SluiceError) || err.where.path !== undefined) return err;
  const detail = err.message.replace(/ \[[^\]]*\]$/, '');
  const where = { ...err.where, path };
  if (err instanceof IntegrityError) return new IntegrityError(err.code, detail, where, { cause: err });
  if (err instanceof FormatError) return new FormatError(err.code, detail, where, { cause: err, exitCode: err.exitCode });
  return err;
}

export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  const n = total ?? parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(new ArrayBuffer(n));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
