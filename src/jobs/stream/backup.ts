/** `backupStream`: a directory tree as one xbstream or tar stream, each file optionally compressed and encrypted. */
import { tmpdir } from 'node:os';
import { writeXbstream } from '../../container/xbstream/writer.js';
import type { Entry } from '../../entry.js';
import { readDirectory } from '../../source/dir.js';
import { createEncodeChain, type EncodeChainOptions } from '../../transform/encode-chain.js';
import { applyToFiles, mapEntries } from '../../transform/entry-transform.js';
import { prefetchFiles } from '../../transform/prefetch.js';
import { type SentStream, sendStream, type StreamOutput } from './output.js';
import { StreamCounter, type StreamProgress } from './progress.js';
import { openFileReading } from './reading.js';
import { type OnReport, xbstreamWriterReports } from './reports.js';

/** Files whose codec work starts ahead of the container (see the decision log in docs/architecture.md). */
const PREFETCH_FILES = 16;

export type StreamFormat = 'xbstream' | 'tar';

export interface BackupStreamOptions extends StreamOutput {
  /** The tree to back up; paths in the stream are relative to it. */
  directory: string;
  /** Default xbstream (byte-compatible with Percona xbstream and MariaDB mbstream). */
  format?: StreamFormat;
  /** Files read at once; in xbstream their chunks interleave. Default 1. */
  parallel?: number;
  /** Compress, then encrypt, each file (x → x.zst.age). Default: neither. */
  encode?: Omit<EncodeChainOptions, 'buffers'>;
  /** Each file once written, with its stored name and size. */
  onFile?: (path: string, size: number) => void;
  /** Paths passed over or kept with a caveat (see reports.ts). */
  onReport?: OnReport;
  onProgress?: (progress: StreamProgress) => void;
}

export interface BackupStreamResult extends SentStream {
  files: number;
}

/**
 * Writes a backup of `options.directory` to `options.output`. Symlinks and empty directories, which
 * xbstream cannot store, are reported through `onReport` and left out; tar keeps them.
 */
export async function backupStream(options: BackupStreamOptions): Promise<BackupStreamResult> {
  const format = options.format ?? 'xbstream';
  const parallel = options.parallel ?? 1;
  const encode = options.encode ?? {};
  const { pool, reader } = openFileReading({ coding: encode.compress !== undefined || encode.encrypt !== undefined, parallel });
  const counter = new StreamCounter(options.onProgress);
  try {
    const transforms = await createEncodeChain({
      ...encode,
      ...(encode.compress === undefined ? {} : { compress: { ...encode.compress, lanes: format === 'xbstream' ? parallel : 1 } }),
      buffers: pool,
    });
    const onFile = (path: string, size: number): void => {
      counter.fileDone();
      options.onFile?.(path, size);
    };
    const transformed = mapEntries(
      readDirectory(options.directory, {
        pool,
        reader,
        statFiles: format === 'tar', // xbstream stores no size, mode or time
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        onSkip: (path, reason) => options.onReport?.(`skipped: ${reason}`, path),
      }),
      applyToFiles(transforms),
    );
    // with codec work per file, start the next files' content early so the workers stay busy
    const entries: AsyncIterable<Entry> = transforms.length > 0 ? prefetchFiles(transformed, { files: PREFETCH_FILES }) : transformed;
    const bytes =
      format === 'xbstream'
        ? writeXbstream(entries, {
            parallel,
            onFile,
            // untransformed, the content is the reader's own views, checksummed by the reader threads
            ...(transforms.length === 0 ? { knownCrc: reader.crcOf } : {}),
            ...xbstreamWriterReports(options.onReport),
          })
        : (await import('../../container/tar/writer.js')).writeTar(entries, { // `tar` costs start-up: loaded only for tar
            spoolDirectory: tmpdir(),
            onFile,
            onWarning: (path, message) => options.onReport?.(`changed while being read: ${message}`, path),
          });
    const sent = await sendStream(bytes, options, counter, pool);
    return { ...sent, files: counter.files };
  } finally {
    await reader.close();
  }
}
