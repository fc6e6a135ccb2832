/**
 * The physical-backup flags of `snapshot`, `restore` and `cat`, and the runs they divert to:
 *   sluice snapshot --mariadb [--db-host H -P PORT -u USER | -S SOCKET] [--incremental] [--tag T] [-- MARIABACKUP ARGS]
 *   sluice snapshot --postgres [--db-host H -P PORT -u ROLE] [-- PG_BASEBACKUP ARGS]
 *   sluice restore SNAPSHOT --datadir D --prepare [--owner mysql]      full + incrementals, prepared, moved back
 *   sluice restore SNAPSHOT --pgdata D [--owner postgres]
 *   sluice cat SNAPSHOT --xbstream | mbstream -x      (or --tar for PostgreSQL)
 * The work is in `jobs/physical/`; this file turns flags into its options. The connection flags carry a
 * `db-` prefix where the repository commands already use the short name (`-p` is the password file,
 * `--host` the host name recorded).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { shortId } from '../../jobs/repository/ref.js';
import type { CliContext } from '../context.js';
import { info, warn } from '../log.js';
import { showStreamProgress } from '../progress.js';
import { openRepository, printJson, type RepoOptions } from '../repo-options.js';
import { type StreamOutputOptions, streamOutputFrom, writeChecksumFile } from '../stream-output.js';
import { formatBytes, parseCount, parseSize } from '../units.js';
import { VERSION } from '../version.js';

export interface PhysicalSnapshotFlags extends RepoOptions {
  mariadb?: boolean;
  postgres?: boolean;
  incremental?: boolean;
  dbHost?: string;
  dbPort?: string;
  dbUser?: string;
  dbSocket?: string;
  dbPasswordFile?: string;
  mariabackupParallel?: string;
  logFile?: string;
  tmpdir?: string;
  holdMemory?: string;
  tag: string[];
  host?: string;
  time?: string;
  packSize?: string;
  compression?: string;
  workers?: string;
  quiet?: boolean;
  verbose?: boolean;
}

export function addPhysicalSnapshotOptions(command: Command): Command {
  return command
    .option('--mariadb', 'hot physical backup of a running MariaDB server (mariabackup), each member file a file of the snapshot under /mariadb')
    .option('--postgres', 'hot physical backup of a running PostgreSQL server (pg_basebackup), each tar member a file under /postgres')
    .option('--incremental', "with --mariadb: only pages changed since the newest snapshot of the same server (its to_lsn)")
    .option('--db-host <host>', 'with --mariadb/--postgres: server host (default 127.0.0.1)')
    .option('-P, --db-port <port>', 'with --mariadb/--postgres: server port')
    .option('-u, --db-user <user>', 'with --mariadb/--postgres: user (MariaDB: default root; PostgreSQL: a role with REPLICATION)')
    .option('-S, --db-socket <path>', 'with --mariadb: Unix socket instead of host and port')
    .option('--db-password-file <file>', 'with --mariadb: the server password (default: $MYSQL_PWD; PostgreSQL: $PGPASSWORD or ~/.pgpass)')
    .option('--mariabackup-parallel <n>', "with --mariadb: mariabackup's copy threads (its --parallel)", '1')
    .option('--log-file <file>', "with --mariadb: append mariabackup's messages to FILE (default: a temporary file, kept if it fails)")
    .option('--tmpdir <dir>', 'with --mariadb: where temporary files go (default: the system\'s)')
    .option('--hold-memory <size>', 'with --mariadb: memory for interleaved files not being stored yet; more goes to a spool file', '16M')
    .option('-v, --verbose', 'with --mariadb/--postgres: list each member file on stderr');
}

export function wantsPhysicalSnapshot(options: { mariadb?: boolean; postgres?: boolean; incremental?: boolean }): boolean {
  if (options.incremental === true && options.mariadb !== true) throw new UsageError('--incremental is for --mariadb snapshots');
  return options.mariadb === true || options.postgres === true;
}

export async function runPhysicalSnapshot(ctx: CliContext, operands: string[], extraArgs: string[] | undefined, options: PhysicalSnapshotFlags): Promise<void> {
  if (options.mariadb === true && options.postgres === true) throw new UsageError('give --mariadb or --postgres, not both');
  if (operands.length > (extraArgs?.length ?? 0)) throw new UsageError('snapshot --mariadb/--postgres takes no directory (tool arguments go after --)');
  const tags = options.tag.flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '');
  const time = options.time === undefined ? new Date() : new Date(options.time);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--time: "${options.time}" is not a date`);
  const port = options.dbPort === undefined ? undefined : parseCount(options.dbPort, '--db-port', 1, 65535);
  const password = options.dbPasswordFile !== undefined ? (await readFile(options.dbPasswordFile, 'utf8')).split('\n')[0] : ctx.env.MYSQL_PWD;
  const quiet = options.quiet === true || options.json === true;
  const { parseCompression } = await import('./repo-init.js');
  const { physicalSnapshot, prestartSnapshotWorkers } = await import('../../jobs/physical/snapshot.js');
  const common = {
    tags,
    time,
    program: `sluice ${VERSION}`,
    ...(options.packSize === undefined ? {} : { packSize: parseSize(options.packSize, '--pack-size') }),
    ...(options.compression === undefined ? {} : { compressionLevel: parseCompression(options.compression) }),
    signal: ctx.signal,
    onFile: (path: string) => {
      if (options.verbose === true) info(ctx, path);
    },
  };
  const engine =
    options.mariadb === true
      ? ({
          engine: 'mariadb',
          mariadb: {
            connection: {
              ...(options.dbSocket !== undefined && options.dbHost === undefined ? {} : { host: options.dbHost ?? '127.0.0.1' }),
              ...(port === undefined ? {} : { port }),
              user: options.dbUser ?? ctx.env.MYSQL_USER ?? 'root',
              ...(password === undefined || password === '' ? {} : { password }),
              ...(options.dbSocket === undefined ? {} : { socket: options.dbSocket }),
            },
            incremental: options.incremental === true,
            parallel: parseCount(options.mariabackupParallel ?? '1', '--mariabackup-parallel', 1, 64),
            extraArgs: extraArgs ?? [],
            ...(options.tmpdir === undefined ? {} : { temporaryParent: options.tmpdir }),
            ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
            memoryBytes: parseSize(options.holdMemory ?? '16M', '--hold-memory'),
            onWarning: (m: string) => warn(ctx, m),
          },
        } as const)
      : ({
          engine: 'postgres',
          postgres: {
            connection: { host: options.dbHost ?? '127.0.0.1', ...(port === undefined ? {} : { port }), ...(options.dbUser === undefined ? {} : { user: options.dbUser }) },
            extraArgs: extraArgs ?? [],
            env: ctx.env,
            onStderr: (chunk: Uint8Array) => {
              if (!quiet) ctx.stderr.write(chunk);
            },
          },
        } as const);

  // The worker threads load their modules while the password is checked.
  const workers = prestartSnapshotWorkers(options.workers === undefined ? undefined : parseCount(options.workers, '--workers', 1, 16));
  try {
    const opened = await openRepository(ctx, options, { exclusive: false, purpose: 'snapshot' }, options.host === undefined ? {} : { host: options.host });
    try {
      const result = await physicalSnapshot(opened.repo, { ...common, ...engine, workers });
      const { id, snapshot, metadata } = result;
      if (options.verbose === true && result.held !== undefined) info(ctx, `held for interleaved files: ${formatBytes(result.held.peakMemoryBytes)} in memory at most, ${formatBytes(result.held.spooledBytes)} spooled`);
      const s = snapshot.summary;
      if (options.json === true) {
        printJson(ctx, { id, short_id: shortId(id), time: snapshot.time, host: snapshot.host, tags, paths: snapshot.paths, parent: snapshot.parent ?? null, physical: metadata, summary: s });
      } else if (!quiet) {
        const lsn = metadata.toLsn === undefined ? '' : `, LSN ${metadata.fromLsn}..${metadata.toLsn}`;
        info(
          ctx,
          `snapshot ${shortId(id)} saved: ${metadata.engine} ${metadata.backupType}${lsn}${metadata.base === undefined ? '' : ` on ${shortId(metadata.base)}`}, ` +
            `${s.files} files, ${formatBytes(s.bytes)} read, ${formatBytes(s.newBytes)} new (${formatBytes(s.storedBytes)} stored), ${(s.durationMs / 1000).toFixed(1)} s`,
        );
      }
    } finally {
      await opened.close();
    }
  } finally {
    await workers.close();
  }
}

export interface PhysicalRestoreFlags extends RepoOptions {
  datadir?: string;
  pgdata?: string;
  prepare?: boolean;
  owner?: string;
  mariabackup?: string;
  logFile?: string;
  concurrency: string;
  host?: string;
}

export function addPhysicalRestoreOptions(command: Command): Command {
  return command
    .option('--datadir <dir>', 'MariaDB physical snapshot: restore its chain (full + incrementals), prepare it and move it into this empty data directory (needs --prepare)')
    .option('--prepare', "with --datadir: run mariabackup's prepare steps (full, then each incremental in order)")
    .option('--pgdata <dir>', 'PostgreSQL physical snapshot: restore it into this empty data directory (mode 0700, WAL included)')
    .option('--owner <user[:group]>', 'with --datadir/--pgdata: give every restored file to this owner (chown -R), e.g. mysql')
    .option('--mariabackup <program>', 'with --datadir: the mariabackup program to run', 'mariabackup')
    .option('--log-file <file>', "with --datadir: append mariabackup's messages to FILE (default: a temporary file, kept if it fails)");
}

export function wantsPhysicalRestore(options: { datadir?: string; pgdata?: string }): boolean {
  return options.datadir !== undefined || options.pgdata !== undefined;
}

export async function runPhysicalRestore(ctx: CliContext, snapshotArg: string, options: PhysicalRestoreFlags & { target?: string; json?: boolean }): Promise<void> {
  if (options.datadir !== undefined && options.pgdata !== undefined) throw new UsageError('give --datadir or --pgdata, not both');
  if (options.target !== undefined) throw new UsageError('--target restores files as they are; --datadir/--pgdata restore a data directory: give one of them');
  if (snapshotArg.includes(':')) throw new UsageError('--datadir/--pgdata restore a whole physical snapshot: give SNAPSHOT without :PATH');
  if (options.datadir !== undefined && options.prepare !== true) {
    throw new UsageError('--datadir needs --prepare (a data directory a server starts on); for the backup files as they are: restore SNAPSHOT:/mariadb --target DIR');
  }
  const { restorePhysical } = await import('../../jobs/physical/restore.js');
  const opened = await openRepository(ctx, options, 'none');
  try {
    const result = await restorePhysical(opened.repo, snapshotArg, {
      engine: options.datadir !== undefined ? 'mariadb' : 'postgres',
      directory: options.datadir ?? (options.pgdata as string),
      ...(options.owner === undefined ? {} : { owner: options.owner }),
      program: options.mariabackup ?? 'mariabackup',
      ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
      concurrency: parseCount(options.concurrency, '--concurrency', 1, 256),
      ...(options.host === undefined ? {} : { host: options.host }),
      signal: ctx.signal,
      onStep: (m) => {
        if (options.json !== true) info(ctx, m);
      },
    });
    const target = options.datadir ?? (options.pgdata as string);
    const { snapshot, chain, ...done } = result;
    if (options.json === true) printJson(ctx, { snapshot, chain, target, ...done });
    else info(ctx, `restored ${chain.length} snapshot(s) (${chain.map((id) => shortId(id)).join(' + ')}, ${formatBytes(result.bytes)}) into ${target}${result.toLsn === undefined ? '' : `, prepared to LSN ${result.toLsn}`}`);
  } finally {
    await opened.close();
  }
}

export interface PhysicalCatFlags {
  xbstream?: boolean;
  tar?: boolean;
}

export function addPhysicalCatOptions(command: Command): Command {
  return command
    .option('--xbstream', 'write the member files of a MariaDB physical snapshot as an xbstream (mbstream -x reads it)')
    .option('--tar', 'write the member files of a PostgreSQL physical snapshot (or any directory) as a tar');
}

export function wantsPhysicalCat(options: PhysicalCatFlags): boolean {
  return options.xbstream === true || options.tar === true;
}

export async function runPhysicalCat(ctx: CliContext, snapshotArg: string, path: string | undefined, options: PhysicalCatFlags & RepoOptions & StreamOutputOptions & { concurrency: string; host?: string }): Promise<void> {
  if (options.xbstream === true && options.tar === true) throw new UsageError('give --xbstream or --tar, not both');
  const { catPhysical } = await import('../../jobs/physical/emit.js');
  const concurrency = parseCount(options.concurrency, '--concurrency', 1, 256);
  const output = streamOutputFrom(ctx, options);
  const opened = await openRepository(ctx, options, 'none');
  const progress = showStreamProgress(ctx, options.progress);
  let sent;
  try {
    sent = await catPhysical(opened.repo, snapshotArg, {
      ...output,
      format: options.xbstream === true ? 'xbstream' : 'tar',
      ...(path === undefined ? {} : { path }),
      ...(options.host === undefined ? {} : { host: options.host }),
      concurrency,
      onSkip: (p, why) => warn(ctx, `not in the stream: ${p} (${why})`),
      onProgress: progress.onProgress,
    });
  } finally {
    progress.stop();
    await opened.close();
  }
  await writeChecksumFile(options, sent);
}
