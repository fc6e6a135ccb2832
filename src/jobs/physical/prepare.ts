/**
 * The restore side of a physical backup streamed with `backup --mariadb` / `--postgres`, once extracted
 * (`xbstream -x`, `mbstream -x`) or saved: `prepareBackup` removes sluice's layers in place and runs
 * `mariabackup --prepare`, `copyBack` puts a prepared backup into an empty data directory, and
 * `restorePgdata` unpacks a pg_basebackup tar into an empty PGDATA. The engine's own tool does the
 * InnoDB work; these jobs check the state recorded in `xtrabackup_checkpoints`, refuse a data directory
 * that is not empty, and turn a tool's failure into a message quoting its last lines.
 */
import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SluiceError, UsageError } from '../../errors.js';
import { type Checkpoints, readCheckpoints } from '../../physical/checkpoints.js';
import { runTool } from '../../physical/run-tool.js';
import { type Decoder, encodingLayers } from '../../transform/decode.js';
import { decodeInPlace, type InPlaceSummary } from '../../transform/in-place.js';
import { defaultLogFile } from './log-file.js';

export type { Checkpoints };

/** How a job runs mariabackup. */
export interface MariabackupRun {
  /** The mariabackup program (default `mariabackup`). */
  program?: string;
  /** Its messages, appended (default: a temporary file, removed after a success). */
  logFile?: string;
  /** More arguments for mariabackup (e.g. `--use-memory=1G`). */
  extraArgs?: readonly string[];
  signal?: AbortSignal;
}

export interface PrepareBackupOptions extends MariabackupRun {
  /** The extracted backup. */
  directory: string;
  /** Removes sluice's compression and encryption first, in place (each original goes once its decoded copy is synced). */
  decoder?: Decoder;
  /** Files decoded at once (default 1). */
  parallel?: number;
  /** After decoding, before mariabackup runs. */
  onDecoded?: (summary: InPlaceSummary) => void;
}

export interface PrepareBackupResult {
  /** The backup, as an absolute path. */
  directory: string;
  /** As recorded after the prepare (or before, when it was already prepared). */
  checkpoints: Checkpoints;
  /** The backup was prepared already: mariabackup did not run. */
  alreadyPrepared: boolean;
}

export interface CopyBackOptions extends MariabackupRun {
  /** The prepared backup. */
  directory: string;
  /** The data directory to fill: must be empty or absent. */
  datadir: string;
  /** Give every restored file to this owner (`chown -R`), e.g. `mysql`. */
  owner?: string;
  /** Move the files (`--move-back`; the backup is used up) instead of copying them. */
  move?: boolean;
}

export interface RestorePgdataOptions {
  /** The tar's bytes (`backup --postgres`). */
  input: AsyncIterable<Uint8Array> | NodeJS.ReadableStream;
  /** What the input is called in messages (a file name, or `stdin`). */
  inputName?: string;
  /** The data directory to fill: must be empty or absent; it gets mode 0700. */
  pgdata: string;
  /** Give every restored file to this owner (`chown -R`), e.g. `postgres`. */
  owner?: string;
  signal?: AbortSignal;
}

export interface RestorePgdataResult {
  /** Tar entries extracted. */
  entries: number;
  /** The backup held postgresql.conf (Debian keeps it outside the data directory, so it often does not). */
  hasConfig: boolean;
}

const PREPARED = new Set(['log-applied', 'full-prepared']);

/** Runs mariabackup with its messages in the log file; the default log goes away when it succeeds. */
async function mariabackup(run: MariabackupRun, args: string[], what: string): Promise<void> {
  const logFile = run.logFile ?? defaultLogFile(tmpdir(), what);
  await runTool({ program: run.program ?? 'mariabackup', args: [...args, ...(run.extraArgs ?? [])], logFile, ...(run.signal === undefined ? {} : { signal: run.signal }) });
  if (run.logFile === undefined) await rm(logFile, { force: true });
}

async function requireDirectory(dir: string, what: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st === undefined || !st.isDirectory()) throw new UsageError(`${what} ${dir} is not a directory`);
}

async function requireCheckpoints(dir: string): Promise<Checkpoints> {
  const checkpoints = await readCheckpoints(dir);
  if (checkpoints === undefined) {
    throw new SluiceError('E_NOT_A_BACKUP', `${dir} holds no xtrabackup_checkpoints: not an extracted mariabackup backup (or still encrypted: give --decrypt)`, { path: dir });
  }
  return checkpoints;
}

/** Files whose names still announce a compression or encryption layer. */
async function encodedFiles(dir: string, found: string[] = [], prefix = ''): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) await encodedFiles(join(dir, entry.name), found, path);
    else if (entry.isFile() && encodingLayers(entry.name).layers.length > 0) found.push(path);
  }
  return found;
}

/** The entries of `dir`, or undefined when it does not exist. */
async function entriesOf(dir: string, option: string, given: string): Promise<string[] | undefined> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new UsageError(`${option} ${given}: ${err.message}`);
  });
}

async function giveTo(owner: string | undefined, dir: string, signal: AbortSignal | undefined): Promise<void> {
  if (owner === undefined) return;
  await runTool({ program: 'chown', args: ['-R', '--', owner, dir], logFile: '/dev/null', ...(signal === undefined ? {} : { signal }) }).catch((err: unknown) => {
    throw new SluiceError('E_OWNER', `restored into ${dir}, but could not give it to ${owner}: ${(err as Error).message}`, {}, { cause: err });
  });
}

/**
 * Makes an extracted MariaDB backup ready for copy-back (`sluice prepare`): decodes it in place with
 * `decoder`, refuses files still compressed or encrypted, then runs `mariabackup --prepare` unless the
 * backup is prepared already.
 */
export async function prepareBackup(options: PrepareBackupOptions): Promise<PrepareBackupResult> {
  const dir = resolve(options.directory); // mariabackup changes its working directory
  await requireDirectory(dir, 'backup directory');
  if (options.decoder !== undefined) {
    const summary = await decodeInPlace([dir], {
      decoder: options.decoder,
      parallel: options.parallel ?? 1,
      removeOriginal: true,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    options.onDecoded?.(summary);
  }
  const left = await encodedFiles(dir);
  if (left.length > 0) {
    const some = left.slice(0, 3).join(', ');
    throw new UsageError(`${dir} still holds ${left.length} compressed or encrypted file(s) (${some}${left.length > 3 ? ', ...' : ''}): give --decompress and/or --decrypt with a key`);
  }
  const before = await requireCheckpoints(dir);
  if (PREPARED.has(before.backupType)) return { directory: dir, checkpoints: before, alreadyPrepared: true };
  await mariabackup(options, ['--prepare', `--target-dir=${dir}`], 'prepare');
  return { directory: dir, checkpoints: await requireCheckpoints(dir), alreadyPrepared: false };
}

/**
 * Copies (or moves) a prepared backup into an empty or absent data directory (`sluice copy-back`,
 * `mariabackup --copy-back` / `--move-back`), then gives it to `owner`. Returns the backup's checkpoints.
 */
export async function copyBack(options: CopyBackOptions): Promise<Checkpoints> {
  const dir = resolve(options.directory); // mariabackup changes its working directory
  const datadir = resolve(options.datadir);
  await requireDirectory(dir, 'backup directory');
  const checkpoints = await requireCheckpoints(dir);
  if (!PREPARED.has(checkpoints.backupType)) {
    throw new UsageError(`${dir} is not prepared (backup_type = ${checkpoints.backupType}): run sluice prepare ${dir} first`);
  }
  const existing = await entriesOf(datadir, '--datadir', options.datadir);
  if (existing === undefined) await mkdir(datadir, { recursive: true, mode: 0o750 });
  else if (existing.length > 0) {
    throw new UsageError(`--datadir ${options.datadir} is not empty (${existing.length} entries): copy-back only fills an empty data directory`);
  }
  const mode = options.move === true ? '--move-back' : '--copy-back';
  await mariabackup(options, [mode, `--target-dir=${dir}`, `--datadir=${datadir}`], 'copy-back');
  await giveTo(options.owner, datadir, options.signal);
  return checkpoints;
}

/**
 * Extracts the tar of `backup --postgres` into an empty or absent data directory (`sluice restore-pgdata`)
 * with mode 0700; the tar must be well formed and hold `backup_label`. The WAL the copy needs is in it,
 * so `postgres -D` recovers and starts.
 */
export async function restorePgdata(options: RestorePgdataOptions): Promise<RestorePgdataResult> {
  const pgdata = resolve(options.pgdata);
  const name = options.inputName ?? 'stdin';
  const existing = await entriesOf(pgdata, '--pgdata', options.pgdata);
  if (existing !== undefined && existing.length > 0) {
    throw new UsageError(`--pgdata ${options.pgdata} is not empty (${existing.length} entries): restore-pgdata only fills an empty data directory`);
  }
  await mkdir(pgdata, { recursive: true, mode: 0o700 });
  await chmod(pgdata, 0o700);
  const { extract } = await import('tar');
  const { pipeline } = await import('node:stream/promises');
  let entries = 0;
  let sawLabel = false;
  const warnings: string[] = [];
  const signal = options.signal ?? new AbortController().signal;
  try {
    await pipeline(
      options.input as NodeJS.ReadableStream,
      extract({
        cwd: pgdata,
        strict: true,
        preserveOwner: false,
        onReadEntry: (entry) => {
          entries += 1;
          if (entry.path === 'backup_label') sawLabel = true;
        },
        onwarn: (_code: string, message: string | Error) => {
          warnings.push(typeof message === 'string' ? message : message.message);
        },
      }) as unknown as NodeJS.WritableStream,
      { signal },
    );
  } catch (err) {
    throw new SluiceError('E_PG_TAR', `cannot extract ${name} into ${pgdata}: ${(err as Error).message}`, { path: name }, { cause: err });
  }
  if (warnings.length > 0) throw new SluiceError('E_PG_TAR', `extracting ${name}: ${warnings.slice(0, 3).join('; ')}`, { path: name });
  if (!sawLabel) throw new SluiceError('E_PG_TAR', `${name} holds no backup_label: not a pg_basebackup tar`, { path: name });
  if (options.owner !== undefined) {
    await runTool({ program: 'chown', args: ['-R', '--', options.owner, pgdata], logFile: '/dev/null', ...(options.signal === undefined ? {} : { signal: options.signal }) });
  }
  const conf = await stat(join(pgdata, 'postgresql.conf')).catch(() => undefined);
  return { entries, hasConfig: conf !== undefined };
}

