/** Where a command's stream comes from: a named file, or stdin (refused when it is a terminal). */
import { createReadStream, fstatSync } from 'node:fs';
import type { CliContext } from './context.js';
import { binaryStdin } from './output.js';

const READ_BYTES = 1 << 20;

export function streamInput(ctx: CliContext, file: string | undefined, what = 'a stream'): AsyncIterable<Uint8Array> {
  if (file !== undefined && file !== '-') return createReadStream(file, { highWaterMark: READ_BYTES });
  // `< file` makes stdin a regular file: read it in large blocks rather than process.stdin's 64 KiB.
  if (ctx.stdinFd !== undefined && isRegularFile(ctx.stdinFd)) {
    return createReadStream('', { fd: ctx.stdinFd, highWaterMark: READ_BYTES, autoClose: false });
  }
  return binaryStdin(ctx, what);
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}
