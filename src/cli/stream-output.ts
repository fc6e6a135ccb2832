/**
 * The output options every streaming command shares (--throttle, --checksum-file, --progress): parsed
 * into a job's StreamOutput, and the checksum file written from its result.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { SentStream, StreamOutput } from '../jobs/stream/output.js';
import type { CliContext } from './context.js';
import { binaryStdout } from './output.js';
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
