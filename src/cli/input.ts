/** Where a command's stream comes from: a named file, or stdin (refused when it is a terminal). */
import { createReadStream, fstatSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { isatty } from 'node:tty';
import { CountedBlocks } from '../bytes/counted-blocks.js';
import { readFdBlocks } from '../bytes/fd-blocks.js';
import type { CliContext } from './context.js';
import { binaryStdin, stdinIsTerminal } from './output.js';

const READ_BYTES = 1 << 20;
/** Block size for countedInput: large reads from a file, several pipe reads per block. */
export const INPUT_BLOCK_BYTES = 1 << 20;

export function streamInput(ctx: CliContext, file: string | undefined, what = 'a stream'): AsyncIterable<Uint8Array> {
  if (file !== undefined && file !== '-') return createReadStream(file, { highWaterMark: READ_BYTES });
  // `< file` makes stdin a regular file: read it in large blocks rather than process.stdin's 64 KiB.
  if (ctx.stdinFd !== undefined && isRegularFile(ctx.stdinFd)) {
    return createReadStream('', { fd: ctx.stdinFd, highWaterMark: READ_BYTES, autoClose: false });
  }
  return binaryStdin(ctx, what);
}

/**
 * Like streamInput, read into recycled blocks (see CountedBlocks): a chunk is valid until the next is
 * asked for, unless the consumer retains it. For consumers that handle each chunk before the next one,
 * or retain what they keep.
 */
export function countedInput(
  ctx: CliContext,
  file: string | undefined,
  what: string,
  blocks = new CountedBlocks(INPUT_BLOCK_BYTES),
): AsyncIterable<Uint8Array> {
  if (file !== undefined && file !== '-') return namedFileBlocks(file, blocks);
  const fd = ctx.stdinFd;
  if (fd === undefined) return binaryStdin(ctx, what);
  if (isatty(fd)) throw stdinIsTerminal(what);
  // fd 0 is read directly (process.stdin would make it non-blocking); if it already is, process.stdin waits for it.
  return readFdBlocks(fd, blocks, { whenNonBlocking: () => binaryStdin(ctx, what) });
}

async function* namedFileBlocks(path: string, blocks: CountedBlocks): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    yield* readFdBlocks(handle.fd, blocks, { settleOnReturn: true });
  } finally {
    await handle.close();
  }
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/**
 * The stdin an extractor reads: undecoded payloads go to the files as views of the input blocks, so
 * those blocks can be recycled (`inputBlocks`); a decoder keeps its input in ways the extractor cannot
 * track, so with one the input is an ordinary stream.
 */
export function extractorInput(ctx: CliContext, what: string, decoding: boolean): { input: AsyncIterable<Uint8Array>; inputBlocks?: CountedBlocks } {
  if (decoding) return { input: streamInput(ctx, undefined, what) };
  const inputBlocks = new CountedBlocks(INPUT_BLOCK_BYTES);
  return { input: countedInput(ctx, undefined, what, inputBlocks), inputBlocks };
}
