/** `dump`: a consistent parallel logical dump of MySQL/MariaDB into a directory, or as a mydumper stream. */
import { mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { type StreamMode, streamModeFlags } from '../../container/mydumper-stream/codec.js';
import { UsageError } from '../../errors.js';
import { type DumpOptions as DumpRunOptions, type DumpSummary as DumpRunSummary, runDump } from '../../source/mysql/dump.js';
import { StreamSender } from '../../source/mysql/stream-sender.js';
import { exists } from '../../files/exists.js';
import { timestampedName } from './directories.js';

export type { DumpProgress, LockMode } from '../../source/mysql/dump.js';

export interface DumpOptions extends Omit<DumpRunOptions, 'outputDir' | 'onFileClosed'> {
  /**
   * The dump directory. Default: `export-YYYYMMDD-HHMMSS` in the working directory, or with `stream` a
   * temporary directory that is removed afterwards.
   */
  outputDir?: string;
  /** Send the dump as a mydumper stream, file by file as each is complete. */
  stream?: { mode: StreamMode; output: Writable };
}

export interface DumpSummary extends Omit<DumpRunSummary, 'outputDir'> {
  /** Where the files are; null when a stream mode deleted them once sent. */
  outputDir: string | null;
  /** Bytes of the mydumper stream; null without `stream`. */
  streamBytes: number | null;
}

/**
 * Dumps the selected databases from one consistent snapshot with `threads` connections, in mydumper's
 * layout. With `stream`, a directory this job created for a mode that deletes its files is removed again.
 */
export async function dump(options: DumpOptions): Promise<DumpSummary> {
  const { stream, outputDir, ...run } = options;
  const mode = stream?.mode;
  if (mode === 'NO_STREAM_AND_NO_DELETE' && outputDir === undefined) {
    throw new UsageError('a NO_STREAM_AND_NO_DELETE stream needs an output directory: the loader reads the files from it');
  }
  const tempDir = outputDir === undefined && mode !== undefined ? await mkdtemp(join(tmpdir(), 'sluice-dump-')) : undefined;
  const dir = outputDir ?? tempDir ?? timestampedName('export', new Date());
  const existed = tempDir === undefined && (await exists(dir));
  const sender = stream === undefined ? undefined : new StreamSender(stream.output, stream.mode, Math.max(4, options.threads * 2));
  const deletesFiles = mode !== undefined && streamModeFlags(mode).deleteFiles;
  let summary: DumpRunSummary;
  try {
    summary = await runDump({ ...run, outputDir: dir, ...(sender === undefined ? {} : { onFileClosed: (f) => sender.enqueue(f) }) });
    await sender?.finish();
  } finally {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
    else if (deletesFiles && !existed) {
      // The directory we created for a stream that deletes its files: leave nothing behind.
      if ((await readdir(dir).catch(() => ['?'])).length === 0) await rmdir(dir).catch(() => undefined);
    }
  }
  return { ...summary, outputDir: deletesFiles ? null : summary.outputDir, streamBytes: sender?.bytes ?? null };
}
