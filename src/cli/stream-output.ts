/**
 * The output options every streaming command shares (--throttle, --checksum-file, --progress): parsed
 * into a job's StreamOutput, and the checksum file written from its result. `sendToStdout` sends a
 * container's bytes to stdout through the same filters, for the commands that are not jobs yet.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { BufferPool } from '../bytes/buffer-pool.js';
import { ThreadedDigest } from '../filter/threaded-digest.js';
import type { Meter } from '../filter/meter.js';
import { throttle } from '../filter/throttle.js';
import { writeAll } from '../sink/writable.js';
import type { SentStream, StreamOutput } from '../jobs/stream/output.js';
import type { CliContext } from './context.js';
import { binaryStdout } from './output.js';
import { showProgress } from './progress.js';
import { parseSize } from './units.js';

export interface StreamOutputOptions {
  throttle?: string;
  checksumFile?: string;
  progress?: boolean;
}

export function addStreamOutputOptions(command: Command): Command {
  return command
    .option('--throttle <rate>', 'limit output to RATE bytes per second (K, M, G suffixes: 10M)')
    .option('--checksum-file <file>', 'write the SHA-256 of the exact bytes sent to stdout to FILE')
    .option('--progress', 'show a progress line on stderr even when it is not a terminal')
    .option('--no-progress', 'never show a progress line');
}

/** stdout (refused when a terminal) and the parsed --throttle and --checksum-file, for a stream job. */
export function streamOutputFrom(ctx: CliContext, options: StreamOutputOptions): StreamOutput {
  const output = binaryStdout(ctx);
  return {
    output,
    ...(options.throttle === undefined ? {} : { throttle: parseSize(options.throttle, '--throttle') }),
    checksum: options.checksumFile !== undefined,
    signal: ctx.signal,
  };
}

/** With --checksum-file, writes the SHA-256 of what the job sent, as `sha256sum -` would print it. */
export async function writeChecksumFile(options: StreamOutputOptions, sent: SentStream): Promise<void> {
  if (options.checksumFile !== undefined && sent.sha256 !== undefined) await writeFile(options.checksumFile, `${sent.sha256}  -\n`);
}

export async function sendToStdout(
  ctx: CliContext,
  bytes: AsyncIterable<Uint8Array>,
  meter: Meter,
  options: StreamOutputOptions,
  /** The pool the source read into: written chunks go back to it. */
  pool?: BufferPool,
): Promise<{ bytes: number; sha256?: string }> {
  const stdout = binaryStdout(ctx);
  let stream = bytes;
  if (options.throttle !== undefined) {
    const rate = parseSize(options.throttle, '--throttle');
    stream = throttle(rate, { signal: ctx.signal })(stream);
  }
  stream = meter.filter(stream);
  const digest = options.checksumFile !== undefined ? new ThreadedDigest('sha256') : undefined;
  if (digest !== undefined) stream = digest.filter(stream);
  const progress = showProgress(ctx, meter, options.progress);
  try {
    await writeAll(stream, stdout, ctx.signal, pool);
  } finally {
    progress.stop();
  }
  if (digest !== undefined && options.checksumFile !== undefined) {
    const hex = await digest.hex();
    await writeFile(options.checksumFile, `${hex}  -\n`);
    return { bytes: meter.bytes, sha256: hex };
  }
  return { bytes: meter.bytes };
}
