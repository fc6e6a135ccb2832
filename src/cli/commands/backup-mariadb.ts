/**
 * `sluice backup --mariadb [connection] --stream [--compress] [--encrypt ...] [--parallel N] [-- ARGS]`:
 * a hot physical backup of a running MariaDB server. mariabackup makes the consistent copy (pages and the
 * redo log written meanwhile); sluice reads its xbstream, and sends each member file through its own
 * per-file compression and encryption into an xbstream on stdout that `mbstream -x` and
 * `sluice xbstream -x` read. The meta files (`xtrabackup_checkpoints`, `xtrabackup_info`, `backup-my.cnf`,
 * ...) are not compressed, so they can be read as they are (they are encrypted with the rest).
 * The work is `backupMariadb` / `backupPostgres` (`jobs/physical/backup.ts`); this file parses their flags.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { connectOptions, type ConnectionFlags } from '../dump-load.js';
import { info } from '../log.js';
import { showStreamProgress } from '../progress.js';
import { SkipReport } from '../skip-report.js';
import { type StreamOutputOptions, streamOutputFrom, writeChecksumFile } from '../stream-output.js';
import { type EncodeOptions, encodeChainOptionsFrom } from '../transform-options.js';
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
    .option('--hold-memory <size>', 'with --mariadb: memory for interleaved files not being sent yet; more goes to a spool file', '16M');
}

export async function runMariadbBackup(options: MariadbBackupOptions, extraArgs: readonly string[], ctx: CliContext): Promise<void> {
  const format = options.stream === 'mbstream' ? 'xbstream' : options.stream;
  if (format !== 'xbstream') throw new UsageError(`--mariadb streams xbstream (what mariabackup writes), not "${options.stream}"`);
  const parallel = parseCount(options.parallel, '--parallel', 1, 64);
  const connection = connectOptions(options, ctx);
  const encode = encodeChainOptionsFrom(options);
  const memoryBytes = parseSize(options.holdMemory ?? '16M', '--hold-memory');
  const output = streamOutputFrom(ctx, options);
  const { backupMariadb } = await import('../../jobs/physical/backup.js');
  const skips = new SkipReport();
  const progress = showStreamProgress(ctx, options.progress);
  let sent;
  try {
    sent = await backupMariadb({
      ...output,
      connection: {
        ...(options.host === undefined && options.socket !== undefined ? {} : { host: connection.host }),
        ...(connection.port === undefined ? {} : { port: connection.port }),
        ...(connection.user === undefined ? {} : { user: connection.user }),
        ...(connection.password === '' ? {} : { password: connection.password }),
        ...(connection.socket === undefined ? {} : { socket: connection.socket }),
      },
      parallel,
      extraArgs,
      ...(options.tmpdir === undefined ? {} : { temporaryParent: options.tmpdir }),
      ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
      memoryBytes,
      encode,
      onFile: (path, size) => {
        if (options.verbose === true) info(ctx, `${path} (${size} bytes)`);
      },
      onReport: (heading, path) => skips.add(heading, path),
      onProgress: progress.onProgress,
    });
  } finally {
    progress.stop();
  }
  await writeChecksumFile(options, sent);
  if (options.verbose === true && sent.held.spooledBytes > 0) info(ctx, `${sent.held.spooledBytes} bytes of interleaved files went through a spool file`);
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
  const port = options.port === undefined ? undefined : parseCount(options.port, '--port', 1, 65535);
  const output = streamOutputFrom(ctx, options);
  const { backupPostgres } = await import('../../jobs/physical/backup.js');
  const progress = showStreamProgress(ctx, options.progress);
  let sent;
  try {
    sent = await backupPostgres({
      ...output,
      connection: {
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(port === undefined ? {} : { port }),
        ...(options.username === undefined ? {} : { user: options.username }),
      },
      extraArgs,
      env: ctx.env,
      onProgress: progress.onProgress,
    });
  } finally {
    progress.stop();
  }
  await writeChecksumFile(options, sent);
}
