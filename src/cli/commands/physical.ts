/**
 * The restore side of physical MariaDB backups, after `sluice xbstream -x` (or `mbstream -x`):
 *   sluice prepare DIR [--decompress] [--decrypt --identity K] [-- ARGS]   decode in place, apply the redo log
 *   sluice copy-back DIR --datadir D [--owner USER[:GROUP]] [--move]     into an empty data directory
 * Both drive mariabackup (the engine's own tool does the InnoDB work); sluice removes its own layers,
 * checks the state recorded in xtrabackup_checkpoints, refuses a data directory that is not empty, and
 * turns a failure into a message quoting mariabackup's last lines.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SluiceError, UsageError } from '../../errors.js';
import { type Checkpoints, readCheckpoints } from '../../physical/checkpoints.js';
import { runTool } from '../../physical/run-tool.js';
import { encodingLayers } from '../../transform/decode.js';
import { decodeInPlace } from '../../transform/in-place.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { addDecodeOptions, DECODE_OPTIONAL_VALUES, type DecodeOptions, decoderFrom } from '../transform-options.js';
import { formatBytes, parseCount } from '../units.js';

interface ToolOptions {
  logFile?: string;
  mariabackup: string;
  json?: boolean;
}

interface PrepareOptions extends DecodeOptions, ToolOptions {
  parallel: string;
}

interface CopyBackOptions extends ToolOptions {
  datadir: string;
  owner?: string;
  move?: boolean;
}

const PREPARED = new Set(['log-applied', 'full-prepared']);

function argsAfterDashes(command: Command): string[] {
  const raw = (command.parent as (Command & { rawArgs?: string[] }) | null)?.rawArgs ?? [];
  const at = raw.indexOf('--');
  return at < 0 ? [] : raw.slice(at + 1);
}

function addToolOptions(command: Command): Command {
  return command
    .option('--mariabackup <program>', 'the mariabackup program to run', 'mariabackup')
    .option('--log-file <file>', "append mariabackup's messages to FILE (default: a temporary file, kept if it fails)")
    .option('--json', 'print the backup\'s checkpoints (type, LSNs) as JSON on stdout')
    .allowExcessArguments(true);
}

/** Runs mariabackup with its messages in the log file; the default log goes away when it succeeds. */
async function mariabackup(options: ToolOptions, args: string[], ctx: CliContext, what: string): Promise<void> {
  const logFile = options.logFile ?? join(tmpdir(), `sluice-${what}-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
  await runTool({ program: options.mariabackup, args, logFile, signal: ctx.signal });
  if (options.logFile === undefined) await rm(logFile, { force: true });
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

function report(ctx: CliContext, options: ToolOptions, dir: string, checkpoints: Checkpoints): void {
  if (options.json === true) {
    const { backupType, fromLsn, toLsn, lastLsn } = checkpoints;
    ctx.stdout.write(
      `${JSON.stringify({ dir, backupType, fromLsn: String(fromLsn), toLsn: String(toLsn), ...(lastLsn === undefined ? {} : { lastLsn: String(lastLsn) }) })}\n`,
    );
  }
}

export const prepareCommand: CommandModule = {
  name: 'prepare',
  optionalValues: DECODE_OPTIONAL_VALUES,
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('prepare')
      .summary('decode an extracted MariaDB physical backup in place and apply its redo log (mariabackup --prepare)')
      .description(
        'Make an extracted `backup --mariadb` stream ready for copy-back: with --decompress/--decrypt, remove\n' +
          "sluice's compression and encryption in place (each original goes once its decoded copy is synced),\n" +
          'then run mariabackup --prepare --target-dir=DIR. Arguments after -- go to mariabackup (--use-memory=1G).',
      )
      .argument('<dir>', 'the extracted backup')
      .option('--parallel <n>', 'files decoded at once', '1');
    addDecodeOptions(command);
    addToolOptions(command).action(async (dirArg: string, options: PrepareOptions) => {
      const dir = resolve(dirArg); // mariabackup changes its working directory
      await requireDirectory(dir, 'backup directory');
      const decoder = await decoderFrom(options, ctx);
      if (decoder !== undefined) {
        const summary = await decodeInPlace([dir], {
          decoder,
          parallel: parseCount(options.parallel, '--parallel', 1, 64),
          removeOriginal: true,
          signal: ctx.signal,
        });
        info(ctx, `decoded ${summary.files.length} files (${formatBytes(summary.inBytes)} -> ${formatBytes(summary.outBytes)})`);
      }
      const left = await encodedFiles(dir);
      if (left.length > 0) {
        const some = left.slice(0, 3).join(', ');
        throw new UsageError(
          `${dir} still holds ${left.length} compressed or encrypted file(s) (${some}${left.length > 3 ? ', ...' : ''}): give --decompress and/or --decrypt with a key`,
        );
      }
      const before = await requireCheckpoints(dir);
      if (PREPARED.has(before.backupType)) {
        info(ctx, `${dir} is already prepared (${before.backupType}, to_lsn ${before.toLsn})`);
        report(ctx, options, dir, before);
        return;
      }
      await mariabackup(options, ['--prepare', `--target-dir=${dir}`, ...argsAfterDashes(command)], ctx, 'prepare');
      const after = await requireCheckpoints(dir);
      info(ctx, `prepared ${dir}: ${after.backupType}, LSN ${after.fromLsn}..${after.toLsn}`);
      report(ctx, options, dir, after);
    });
  },
};

export const copyBackCommand: CommandModule = {
  name: 'copy-back',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('copy-back')
      .summary('put a prepared MariaDB physical backup into an empty data directory (mariabackup --copy-back)')
      .description(
        'Copy (or with --move, move) a backup that `sluice prepare` made ready into the data directory D, which\n' +
          'must be empty or absent, then give it to --owner. A server started with --datadir=D finds the backup.\n' +
          'Arguments after -- go to mariabackup.',
      )
      .argument('<dir>', 'the prepared backup')
      .requiredOption('--datadir <dir>', 'the data directory to fill (must be empty or absent)')
      .option('--owner <user[:group]>', 'give every restored file to this owner (chown -R), e.g. mysql')
      .option('--move', 'move the files instead of copying them (mariabackup --move-back); DIR is used up');
    addToolOptions(command).action(async (dirArg: string, options: CopyBackOptions) => {
      const dir = resolve(dirArg); // mariabackup changes its working directory
      const datadir = resolve(options.datadir);
      await requireDirectory(dir, 'backup directory');
      const checkpoints = await requireCheckpoints(dir);
      if (!PREPARED.has(checkpoints.backupType)) {
        throw new UsageError(`${dir} is not prepared (backup_type = ${checkpoints.backupType}): run sluice prepare ${dir} first`);
      }
      const existing = await readdir(datadir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw new UsageError(`--datadir ${options.datadir}: ${err.message}`);
      });
      if (existing === undefined) await mkdir(datadir, { recursive: true, mode: 0o750 });
      else if (existing.length > 0) {
        throw new UsageError(`--datadir ${options.datadir} is not empty (${existing.length} entries): copy-back only fills an empty data directory`);
      }
      const mode = options.move === true ? '--move-back' : '--copy-back';
      await mariabackup(options, [mode, `--target-dir=${dir}`, `--datadir=${datadir}`, ...argsAfterDashes(command)], ctx, 'copy-back');
      if (options.owner !== undefined) {
        await runTool({ program: 'chown', args: ['-R', '--', options.owner, datadir], logFile: '/dev/null', signal: ctx.signal }).catch((err: unknown) => {
          throw new SluiceError('E_OWNER', `restored into ${datadir}, but could not give it to ${options.owner}: ${(err as Error).message}`, {}, { cause: err });
        });
      }
      info(ctx, `restored ${dir} into ${datadir} (LSN ${checkpoints.toLsn})`);
      report(ctx, options, datadir, checkpoints);
    });
  },
};

interface PgRestoreOptions {
  pgdata: string;
  owner?: string;
}

export const restorePgdataCommand: CommandModule = {
  name: 'restore-pgdata',
  register(program: Command, ctx: CliContext) {
    program
      .command('restore-pgdata')
      .summary('unpack a `backup --postgres` tar into an empty PostgreSQL data directory')
      .description(
        'Extract the tar of `sluice backup --postgres` (FILE, or stdin) into the data directory D, which must be\n' +
          'empty or absent; D gets mode 0700 and, with --owner, that owner. The tar holds the WAL the copy\n' +
          'needs, so `postgres -D D` recovers and starts. Configuration files kept outside the data directory\n' +
          '(Debian: /etc/postgresql/...) are not in the backup.',
      )
      .argument('[file]', 'the tar (default: stdin)')
      .requiredOption('--pgdata <dir>', 'the data directory to fill (must be empty or absent)')
      .option('--owner <user[:group]>', 'give every restored file to this owner (chown -R), e.g. postgres')
      .action(async (file: string | undefined, options: PgRestoreOptions) => {
        const pgdata = resolve(options.pgdata);
        const existing = await readdir(pgdata).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined;
          throw new UsageError(`--pgdata ${options.pgdata}: ${err.message}`);
        });
        if (existing !== undefined && existing.length > 0) {
          throw new UsageError(`--pgdata ${options.pgdata} is not empty (${existing.length} entries): restore-pgdata only fills an empty data directory`);
        }
        await mkdir(pgdata, { recursive: true, mode: 0o700 });
        const { chmod } = await import('node:fs/promises');
        await chmod(pgdata, 0o700);
        const { extract } = await import('tar');
        const { createReadStream } = await import('node:fs');
        const { pipeline } = await import('node:stream/promises');
        const { binaryStdin } = await import('../output.js');
        const input = file === undefined || file === '-' ? binaryStdin(ctx) : createReadStream(file);
        let entries = 0;
        let sawLabel = false;
        const warnings: string[] = [];
        try {
          await pipeline(
            input as NodeJS.ReadableStream,
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
            { signal: ctx.signal },
          );
        } catch (err) {
          throw new SluiceError('E_PG_TAR', `cannot extract ${file ?? 'stdin'} into ${pgdata}: ${(err as Error).message}`, { path: file ?? 'stdin' }, { cause: err });
        }
        if (warnings.length > 0) throw new SluiceError('E_PG_TAR', `extracting ${file ?? 'stdin'}: ${warnings.slice(0, 3).join('; ')}`, { path: file ?? 'stdin' });
        if (!sawLabel) throw new SluiceError('E_PG_TAR', `${file ?? 'stdin'} holds no backup_label: not a pg_basebackup tar`, { path: file ?? 'stdin' });
        if (options.owner !== undefined) {
          await runTool({ program: 'chown', args: ['-R', '--', options.owner, pgdata], logFile: '/dev/null', signal: ctx.signal });
        }
        const conf = await stat(join(pgdata, 'postgresql.conf')).catch(() => undefined);
        if (conf === undefined) info(ctx, `note: the backup holds no postgresql.conf/pg_hba.conf (kept outside the data directory); copy yours into ${pgdata} or start postgres with -c config_file=...`);
        info(ctx, `restored ${entries} entries into ${pgdata}`);
      });
  },
};
