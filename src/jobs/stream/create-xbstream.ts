/** `createXbstream`: named files and directories as one xbstream (what `xbstream -c` writes). */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeXbstream } from '../../container/xbstream/writer.js';
import { type Entry, toSafePath } from '../../entry.js';
import { fileEntryFor, readDirectory } from '../../source/dir.js';
import { type SentStream, sendStream, type StreamOutput } from './output.js';
import { StreamCounter, type StreamProgress } from './progress.js';
import { openFileReading } from './reading.js';
import { type OnReport, xbstreamWriterReports } from './reports.js';

export interface CreateXbstreamOptions extends StreamOutput {
  /** Files or directories (searched recursively), relative to `directory`; stored under these names. */
  files: readonly string[];
  /** Where the names are looked up (default: the working directory). */
  directory?: string;
  /** Files read at once, their chunks interleaved. Default 1. */
  parallel?: number;
  onFile?: (path: string, size: number) => void;
  onReport?: OnReport;
  onProgress?: (progress: StreamProgress) => void;
}

export interface CreateXbstreamResult extends SentStream {
  files: number;
}

/** Writes the named files to `options.output` as an xbstream, the same bytes `mbstream -c` writes. */
export async function createXbstream(options: CreateXbstreamOptions): Promise<CreateXbstreamResult> {
  const base = options.directory ?? '.';
  const parallel = options.parallel ?? 1;
  const { pool, reader } = openFileReading({ coding: false, parallel });
  const counter = new StreamCounter(options.onProgress);
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  async function* entries(): AsyncGenerator<Entry> {
    for (const name of options.files) {
      const rel = toSafePath(name.replace(/^\.\//, '').replace(/\/+$/, ''));
      const full = join(base, rel);
      if ((await lstat(full)).isDirectory()) {
        yield* readDirectory(full, { prefix: rel, pool, reader, statFiles: false, ...signal, onSkip: (p, why) => options.onReport?.(`skipped: ${why}`, p) });
      } else {
        yield await fileEntryFor(full, rel, { pool, reader });
      }
    }
  }
  const bytes = writeXbstream(entries(), {
    parallel,
    knownCrc: reader.crcOf, // the content is the reader's own views, checksummed by the reader threads
    onFile: (path, size) => {
      counter.fileDone();
      options.onFile?.(path, size);
    },
    ...xbstreamWriterReports(options.onReport),
  });
  try {
    const sent = await sendStream(bytes, options, counter, pool);
    return { ...sent, files: counter.files };
  } finally {
    await reader.close();
  }
}
