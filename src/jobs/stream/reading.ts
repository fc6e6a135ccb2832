/**
 * How the stream jobs read the files they back up: one buffer pool and one reader-thread pair per job,
 * sized for whether files go through codecs. `backupStream` and `createXbstream` both start here.
 */
import { BufferPool } from '../../bytes/buffer-pool.js';
import { DEFAULT_READ_BYTES } from '../../source/dir.js';
import { FileReader } from '../../source/file-reader.js';

/** Read block size when files are compressed or encrypted (the codecs' default block is 4 MiB too). */
const CODEC_READ_BYTES = 4 << 20;
/** Read on the main thread before the reader threads start: a backup this small is over before a thread would be up. */
const INLINE_READ_BYTES = 8 << 20;

export interface FileReading {
  /** The blocks files are read into; the output gives them back once written. */
  pool: BufferPool;
  reader: FileReader;
}

/**
 * With codec work, files are cut into the codecs' own blocks and several are prefetched for the
 * workers: smaller read blocks, read one ahead, keep that from holding 30 MiB per file (see the decision
 * log in docs/architecture.md). Without it, reads of 10 MiB make chunks exactly like mbstream's.
 */
export function openFileReading(options: { coding: boolean; parallel: number }): FileReading {
  const pool = new BufferPool(options.coding ? CODEC_READ_BYTES : DEFAULT_READ_BYTES, 16, true);
  const reader = new FileReader(pool, {
    threads: 2,
    readAhead: options.coding || options.parallel > 2 ? 1 : 2,
    inlineBytes: INLINE_READ_BYTES,
    checksums: !options.coding, // content that reaches the xbstream writer as it was read keeps the readers' CRCs
    // without codecs the readers are what the writer waits for: one batch ahead for each thread (with
    // codecs the workers are, and a batch more would take a compressed backup past 200 MiB)
    batchesAhead: options.coding ? 1 : 2,
  });
  return { pool, reader };
}
