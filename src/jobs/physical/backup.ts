/**
 * Hot physical backups of a running server as one stream, for `backup --mariadb` / `--postgres`:
 * the engine's tool makes the consistent copy, and the job passes it on. MariaDB: mariabackup's xbstream
 * is read member by member, each member file goes through its own per-file compression and encryption,
 * and the result is an xbstream `mbstream -x` and `extractStream` read; the meta files
 * (`xtrabackup_checkpoints`, `backup-my.cnf`, ...) are encrypted but not compressed, so they stay
 * readable as they are. PostgreSQL: pg_basebackup's tar (base and the WAL it needs), checked as it passes.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { BufferPool } from '../../bytes/buffer-pool.js';
import { DEMUX_BLOCK_BYTES, demuxBlocksKept } from '../../source/xbstream-demux.js';
import { writeXbstream } from '../../container/xbstream/writer.js';
import type { Entry } from '../../entry.js';
import { createEncodeChain, type EncodeChainOptions } from '../../transform/encode-chain.js';
import type { FileTransform } from '../../transform/entry-transform.js';
import { type SentStream, sendStream, type StreamOutput } from '../stream/output.js';
import { StreamCounter, type StreamProgress } from '../stream/progress.js';
import { type OnReport, xbstreamWriterReports } from '../stream/reports.js';
import { defaultLogFile } from './log-file.js';

export interface BackupMariadbOptions extends StreamOutput {
  /** The server (default: mariabackup's defaults). The password goes to mariabackup in a 0600 file, never on argv. */
  connection: { host?: string; port?: number; user?: string; password?: string; socket?: string };
  /** mariabackup's copy threads, and files the writer interleaves (default 1). */
  parallel?: number;
  /** More arguments for mariabackup. */
  extraArgs?: readonly string[];
  /** Where temporary files go (default: the system's temporary directory). */
  temporaryParent?: string;
  /** mariabackup's messages, appended (default: a new file in `temporaryParent`, removed after a success). */
  logFile?: string;
  /** The mariabackup program (default `mariabackup`). */
  program?: string;
  /** Memory for interleaved files not being sent yet; more goes to a spool file (default 64 MiB). */
  memoryBytes?: number;
  /** Compress, then encrypt, each member file (meta files: only encrypted). Default: neither. */
  encode?: Omit<EncodeChainOptions, 'buffers'>;
  /** Each member file once written, with its stored name and size. */
  onFile?: (path: string, size: number) => void;
  /** Paths passed over or kept with a caveat. */
  onReport?: OnReport;
  onProgress?: (progress: StreamProgress) => void;
}

export interface BackupMariadbResult extends SentStream {
  files: number;
  /** What waited for the writer: peak memory, and bytes that went through spool files. */
  held: { peakMemoryBytes: number; spooledBytes: number };
}

export interface BackupPostgresOptions extends StreamOutput {
  /** The server; the role needs REPLICATION (password from PGPASSWORD or ~/.pgpass in `env`). */
  connection: { host?: string; port?: number; user?: string };
  /** More arguments for pg_basebackup. */
  extraArgs?: readonly string[];
  /** pg_basebackup's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  onProgress?: (progress: StreamProgress) => void;
}

/**
 * The blocks of the whole job (1 MiB: what the demultiplexer copies mariabackup's stream into, and what
 * the encoders gather their output into), and the xbstream chunk size: each block goes out as one chunk
 * as soon as it is full, so no lane holds more than one (with upstream's 10 MiB chunks each lane held
 * 10 MiB of output staged). Nothing reads this stream expecting upstream's chunk sizes: mariabackup's
 * own differ.
 */
const OUTPUT_BLOCK_BYTES = DEMUX_BLOCK_BYTES;

const apply = (transforms: readonly FileTransform[], entry: Entry): Entry => (entry.kind === 'file' ? transforms.reduce((e, t) => t(e), entry) : entry);

/**
 * Streams a hot backup of a running MariaDB server to `options.output` as an xbstream. The stream is
 * complete only if mariabackup exited 0 (otherwise the job fails with its last lines).
 */
export async function backupMariadb(options: BackupMariadbOptions): Promise<BackupMariadbResult> {
  const parallel = options.parallel ?? 1;
  const temporaryParent = options.temporaryParent ?? tmpdir();
  const logFile = options.logFile ?? defaultLogFile(temporaryParent, 'mariabackup');
  // One pool of blocks for the job: the demultiplexer copies what mariabackup sends into them, the
  // encoders give those back once copied and gather their output into others, and the output gives back
  // what it has written. A codec's own output buffers are then copied from and reused at once, not held
  // (a 4 MiB buffer for each compressed frame) by the writer until it is sent, nor left to the GC.
  const buffers = new BufferPool(OUTPUT_BLOCK_BYTES, demuxBlocksKept(options.memoryBytes));
  // Meta files get no compression: one chain compresses, the other encrypts (one age header for both).
  const compress = await createEncodeChain(options.encode?.compress === undefined ? {} : { compress: options.encode.compress, buffers });
  const encrypt = await createEncodeChain(options.encode?.encrypt === undefined ? {} : { encrypt: options.encode.encrypt, buffers });
  const { isBackupMetaFile, mariabackupSource } = await import('../../source/mariabackup.js');
  const { StreamEdits } = await import('../../physical/stream-edits.js');
  const { isRedoLogCopy } = await import('../../physical/redo-log.js');
  // DDL from other sessions during the backup: mariabackup's remove/rename chunks, passed on
  const edits = new StreamEdits();
  const source = mariabackupSource({
    onEdit: edits.add,
    // under a write load the redo log copy starts first and ends last: sent whole at its end, it takes no writer lane meanwhile
    deferred: isRedoLogCopy,
    connection: options.connection,
    parallel,
    extraArgs: options.extraArgs ?? [],
    temporaryParent,
    logFile,
    ...(options.program === undefined ? {} : { program: options.program }),
    ...(options.memoryBytes === undefined ? {} : { memoryBytes: options.memoryBytes }),
    // the stream is copied into the same blocks (the encoders release what they copied, the output what it wrote)
    blocks: buffers,
    mtimeMs: Date.now(),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  async function* transformed(): AsyncGenerator<Entry> {
    for await (const entry of source.entries) {
      const encoded = isBackupMetaFile(entry.path) ? apply(encrypt, entry) : apply([...compress, ...encrypt], entry);
      edits.sent(entry.path, encoded.path);
      yield encoded;
    }
  }
  // No prefetching of files (as `backupStream` does): mariabackup sends them one after another, so taking
  // the next file early reads all of the current one from its stdout at once, into memory and spool files.
  const entries: AsyncIterable<Entry> = transformed();
  const counter = new StreamCounter(options.onProgress);
  const bytes = writeXbstream(entries, {
    parallel,
    chunkBytes: OUTPUT_BLOCK_BYTES,
    edits: edits.after,
    onFile: (path, size) => {
      counter.fileDone();
      options.onFile?.(path, size);
    },
    ...xbstreamWriterReports(options.onReport),
  });
  const sent = await sendStream(bytes, options, counter, buffers);
  if (options.logFile === undefined) await rm(logFile, { force: true });
  return { ...sent, files: counter.files, held: source.held() };
}

/** Streams pg_basebackup's tar of a running PostgreSQL server to `options.output`, checked as it passes (well formed, `backup_label` present). */
export async function backupPostgres(options: BackupPostgresOptions): Promise<SentStream> {
  const { pgBasebackupStream } = await import('../../source/pg-basebackup.js');
  const bytes = pgBasebackupStream({
    connection: options.connection,
    extraArgs: options.extraArgs ?? [],
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return sendStream(bytes, options, new StreamCounter(options.onProgress));
}
