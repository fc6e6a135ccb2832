/** Where a command's data goes: stdout, refused when it is a terminal, or a named file. */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { UsageError } from '../errors.js';
import type { CliContext } from './context.js';

/** stdout for binary data; a terminal would only be garbled, so it is refused. */
export function binaryStdout(ctx: CliContext, what = 'a binary stream'): Writable {
  if (ctx.stdout.isTTY === true) {
    throw new UsageError(`refusing to write ${what} to a terminal; redirect stdout to a file or a pipe`);
  }
  return ctx.stdout;
}

/** stdin for binary data; a terminal means the user forgot the `<` redirection. */
export function binaryStdin(ctx: CliContext, what = 'a stream'): NodeJS.ReadableStream & AsyncIterable<Uint8Array> {
  if (ctx.stdin.isTTY === true) throw stdinIsTerminal(what);
  return ctx.stdin as NodeJS.ReadableStream & AsyncIterable<Uint8Array>;
}

export function stdinIsTerminal(what: string): UsageError {
  return new UsageError(`expected ${what} on stdin, but stdin is a terminal; redirect it from a file or a pipe`);
}

export function fileOutput(path: string): Writable {
  return createWriteStream(path, { flags: 'w' });
}
