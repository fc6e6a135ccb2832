/**
 * Reads a file descriptor (a regular file or a pipe) into recycled counted blocks.
 *
 * Each read lands in the free part of the current block, so views handed out earlier stay untouched; a
 * nearly full block is released (by its reader's reference) and a new one taken. A view is valid until
 * the consumer asks for the next one, unless the consumer retained it (see CountedBlocks). Reusing
 * blocks keeps a long stream from faulting in fresh memory and from driving the garbage collector with
 * external allocations, which together cost more CPU than parsing and checksumming the stream.
 */
import { read } from 'node:fs';
import type { CountedBlocks } from './counted-blocks.js';

/** A read into less than this much free space starts a new block. */
const MIN_READ_BYTES = 64 * 1024;

export interface FdBlocksOptions {
  /**
   * Where the rest of the input comes from if the descriptor turns out to be non-blocking (a read fails
   * with EAGAIN): normally the same descriptor through a stream that waits for it to become readable.
   */
  whenNonBlocking?: () => AsyncIterable<Uint8Array>;
  /**
   * Wait for the read in flight when the consumer stops early, so the caller may close the descriptor.
   * Leave unset for a pipe, where that read may wait for the writer forever.
   */
  settleOnReturn?: boolean;
}

interface Read {
  block: Buffer;
  at: number;
  done: Promise<number>;
}

/**
 * Yields what each read returns, with the next read already in flight while the consumer works on the
 * current view (the two never share bytes of a block).
 */
export async function* readFdBlocks(fd: number, blocks: CountedBlocks, options: FdBlocksOptions = {}): AsyncGenerator<Uint8Array> {
  const start = (block: Buffer, at: number): Read => {
    const done = readInto(fd, block, at);
    done.catch(() => undefined); // awaited below, or abandoned when the consumer stops early
    return { block, at, done };
  };
  let pending = start(blocks.take(), 0);
  /** A block whose last view the consumer may still be using, released when it asks for more. */
  let finished: Buffer | undefined;
  let settled = false;
  try {
    for (;;) {
      let n: number;
      try {
        n = await pending.done;
      } catch (err) {
        settled = true;
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || options.whenNonBlocking === undefined) throw err;
        yield* options.whenNonBlocking();
        return;
      }
      if (n === 0) {
        settled = true;
        return;
      }
      const { block, at } = pending;
      const next = at + n;
      if (blocks.blockBytes - next < MIN_READ_BYTES) {
        finished = block;
        pending = start(blocks.take(), 0);
      } else {
        pending = start(block, next);
      }
      yield block.subarray(at, next);
      if (finished !== undefined) blocks.release(finished);
      finished = undefined;
    }
  } finally {
    if (finished !== undefined) blocks.release(finished);
    if (!settled && options.settleOnReturn === true) {
      await pending.done.catch(() => undefined);
      settled = true;
    }
    // A read still in flight may yet write into its block: that block is left to the garbage collector.
    if (settled) blocks.release(pending.block);
  }
}

function readInto(fd: number, block: Buffer, at: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, block, at, block.length - at, null, (err, n) => (err === null ? resolve(n) : reject(err)));
  });
}
