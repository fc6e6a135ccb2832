/** Where a command's stream comes from: a named file, or stdin (refused when it is a terminal). */
import { createReadStream } from 'node:fs';
import type { CliContext } from './context.js';
import { binaryStdin } from './output.js';

export function streamInput(ctx: CliContext, file: string | undefined, what = 'a stream'): AsyncIterable<Uint8Array> {
  if (file !== undefined && file !== '-') return createReadStream(file, { highWaterMark: 1 << 20 });
  return binaryStdin(ctx, what);
}
