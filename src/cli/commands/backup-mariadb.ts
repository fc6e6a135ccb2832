/**
 * `sluice backup --mariadb [connection] --stream [--compress] [--encrypt ...] [--parallel N] [-- ARGS]`:
 * a hot physical backup of a running MariaDB server. mariabackup makes the consistent copy (pages and the
 * redo log written meanwhile); sluice reads its xbstream, and sends each member file through its own
 * per-file compression and encryption into an xbstream on stdout that `mbstream -x` and
 * `sluice xbstream -x` read. The meta files (`xtrabackup_checkpoints`, `xtrabackup_info`, `backup-my.cnf`,
 * ...) are not compressed, so they can be read as they are (they are encrypted with the rest).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { writeXbstream } from '../../container/xbstream/writer.js';
import type { Entry } from '../../entry.js';
import { UsageError } from '../../errors.js';
import { Meter } from '../../filter/meter.js';
import type { FileTransform } from '../../transform/entry-transform.js';
import { prefetchFiles } from '../../transform/prefetch.js';
import type { CliContext } from '../context.js';
import { connectOptions, type ConnectionFlags } from '../dump-load.js';
import { info } from '../log.js';
import { SkipReport, xbstreamWriterReports } from '../skip-report.js';
import { sendToStdout, type StreamOutputOptions } from '../stream-output.js';
import { type EncodeOptions, encodeTransformsFrom } from '../transform-options.js';
import { parseCount, parseSize } from '../units.js';

export interface MariadbBackupOptions extends StreamOutputOptions, EncodeOptions, ConnectionFlags {
  mariadb?: boolean;
  stream: string;
  parallel: string;
  verbose?: boolean;
  logFile?: string;
  tmpdir?: string;
  holdMemory?: string;
}

/** Options only `backup --mariadb` uses (the connection options are added by the caller). */
export function addMariadbBackupOptions(command: Command): Command {
  return command
    .option('--mariadb', 'hot physical backup of a running MariaDB server through mariabackup (arguments after -- go to mariabackup)')
    .option('--log-file <file>', 'with --mariadb: append mariabackup\'s messages to FILE (default: a file in the temporary directory, kept if it fails)')
    .option('--tmpdir <dir>', 'with --mariadb: where the temporary directory goes (default: the system\'s)')
    .option('--hold-memory <size>', 'with --mariadb: memory for interleaved files not being sent yet; more goes to a spool file', '64M');
}

/** Files whose codec work starts ahead of the container, as in `backup DIR`. */
const PREFETCH_FILES = 16;

export async function runMariadbBackup(options: MariadbBackupOptions, extraArgs: readonly string[], ctx: CliContext): Promise<void> {
  const format = options.stream === 'mbstream' ? 'xbstream' : options.stream;
  if (format !== 'xbstream') throw new UsageError(`--mariadb streams xbstream (what mariabackup writes), not "${options.stream}"`);
  const parallel = parseCount(options.parallel, '--parallel', 1, 64);
  const connection = connectOptions(options, ctx);
  const temporaryParent = options.tmpdir ?? tmpdir();
  const ownLog = options.logFile === undefined;
  const logFile = options.logFile ?? join(temporaryParent, `sluice-mariabackup-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);

  // Meta files get no compression: transforms are built in two sets over one set of options.
  const noEncryption = { ...options, encrypt: undefined, recipient: undefined, recipientsFile: undefined, passphraseFile: undefined };
  const compress = await encodeTransformsFrom(noEncryption, ctx);
  const encrypt = await encodeTransformsFrom({ ...options, compress: undefined }, ctx);
  const apply = (ts: FileTransform[], entry: Entry): Entry => (entry.kind === 'file' ? ts.reduce((e, t) => t(e), entry) : entry);

  const { isBackupMetaFile, mariabackupSource } = await import('../../source/mariabackup.js');
  const source = mariabackupSource({
    connection: {
      ...(options.host === undefined && options.socket !== undefined ? {} : { host: connection.host }),
      ...(connection.port === undefined ? {} : { port: connection.port }),
      ...(connection.user === undefined ? {} : { user: connection.user }),
      ...(connection.password === '' ? {} : { password: connection.password }),
      ...(connection.socket === undefined ? {} : { socket: connection.socket }),
    },
    parallel,
    extraArgs,
    temporaryParent,
    logFile,
    memoryBytes: parseSize(options.holdMemory ?? '64M', '--hold-memory'),
    mtimeMs: Date.now(),
    signal: ctx.signal,
  });

  async function* transformed(): AsyncGenerator<Entry> {
    for await (const entry of source.entries) {
      yield isBackupMetaFile(entry.path) ? apply(encrypt, entry) : apply([...compress, ...encrypt], entry);
    }
  }
  const coding = compress.length + encrypt.length > 0;
  const entries: AsyncIterable<Entry> = coding ? prefetchFiles(transformed(), { files: PREFETCH_FILES }) : transformed();
  const skips = new SkipReport();
  const meter = new Meter();
  const bytes = writeXbstream(entries, {
    parallel,
    onFile: (path, size) => {
      meter.files += 1;
      if (options.verbose === true) info(ctx, `${path} (${size} bytes)`);
    },
    ...xbstreamWriterReports(skips),
  });
  await sendToStdout(ctx, bytes, meter, options);
  if (ownLog) {
    const { rm } = await import('node:fs/promises');
    await rm(logFile, { force: true });
  }
  const held = source.held();
  if (options.verbose === true && held.spooledBytes > 0) info(ctx, `${held.spooledBytes} bytes of interleaved files went through a spool file`);
  skips.print(ctx);
}

export interface PostgresBackupOptions extends StreamOutputOptions, ConnectionFlags {
  postgres?: boolean;
  username?: string;
  stream: string;
}

/** Options only `backup --postgres` uses (host and port are the shared connection options). */
export function addPostgresBackupOptions(command: Command): Command {
  return command
    .option('--postgres', 'hot physical backup of a running PostgreSQL server through pg_basebackup, as a tar (arguments after -- go to pg_basebackup)')
    .option('-U, --username <name>', 'with --postgres: the role to connect as (needs REPLICATION; password from PGPASSWORD or ~/.pgpass)');
}

/** `backup --postgres --stream=tar`: pg_basebackup's tar (base + the WAL it needs), checked and passed on. */
export async function runPostgresBackup(options: PostgresBackupOptions, extraArgs: readonly string[], ctx: CliContext): Promise<void> {
  if (options.stream !== 'tar') throw new UsageError('--postgres streams tar (what pg_basebackup writes): give --stream=tar');
  const { pgBasebackupStream } = await import('../../source/pg-basebackup.js');
  const port = options.port === undefined ? undefined : parseCount(options.port, '--port', 1, 65535);
  const bytes = pgBasebackupStream({
    connection: {
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(port === undefined ? {} : { port }),
      ...(options.username === undefined ? {} : { user: options.username }),
    },
    extraArgs,
    env: ctx.env,
    signal: ctx.signal,
  });
  await sendToStdout(ctx, bytes, new Meter(), options);
}
