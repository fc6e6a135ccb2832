/**
 * The restore side of physical MariaDB backups, after `sluice xbstream -x` (or `mbstream -x`):
 *   sluice prepare DIR [--decompress] [--decrypt --identity K] [-- ARGS]   decode in place, apply the redo log
 *   sluice copy-back DIR --datadir D [--owner USER[:GROUP]] [--move]     into an empty data directory
 * Both drive mariabackup (the engine's own tool does the InnoDB work); sluice removes its own layers,
 * checks the state recorded in xtrabackup_checkpoints, refuses a data directory that is not empty, and
 * turns a failure into a message quoting mariabackup's last lines.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Checkpoints } from '../../jobs/physical/prepare.js';
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

/** How the jobs run mariabackup, from the shared flags and the arguments after `--`. */
function toolRun(options: ToolOptions, command: Command, ctx: CliContext): { program: string; logFile?: string; extraArgs: string[]; signal: AbortSignal } {
  return { program: options.mariabackup, ...(options.logFile === undefined ? {} : { logFile: options.logFile }), extraArgs: argsAfterDashes(command), signal: ctx.signal };
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
    addToolOptions(command).action(async (dir: string, options: PrepareOptions) => {
      const decoder = await decoderFrom(options, ctx);
      const { prepareBackup } = await import('../../jobs/physical/prepare.js');
      const result = await prepareBackup({
        ...toolRun(options, command, ctx),
        directory: dir,
        ...(decoder === undefined ? {} : { decoder }),
        parallel: parseCount(options.parallel, '--parallel', 1, 64),
        onDecoded: (summary) => info(ctx, `decoded ${summary.files.length} files (${formatBytes(summary.inBytes)} -> ${formatBytes(summary.outBytes)})`),
      });
      const c = result.checkpoints;
      if (result.alreadyPrepared) info(ctx, `${result.directory} is already prepared (${c.backupType}, to_lsn ${c.toLsn})`);
      else info(ctx, `prepared ${result.directory}: ${c.backupType}, LSN ${c.fromLsn}..${c.toLsn}`);
      report(ctx, options, result.directory, c);
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
    addToolOptions(command).action(async (dir: string, options: CopyBackOptions) => {
      const { copyBack } = await import('../../jobs/physical/prepare.js');
      const checkpoints = await copyBack({
        ...toolRun(options, command, ctx),
        directory: dir,
        datadir: options.datadir,
        ...(options.owner === undefined ? {} : { owner: options.owner }),
        move: options.move === true,
      });
      info(ctx, `restored ${resolve(dir)} into ${resolve(options.datadir)} (LSN ${checkpoints.toLsn})`);
      report(ctx, options, resolve(options.datadir), checkpoints);
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
        const { restorePgdata } = await import('../../jobs/physical/prepare.js');
        const { binaryStdin } = await import('../output.js');
        const fromStdin = file === undefined || file === '-';
        const result = await restorePgdata({
          input: fromStdin ? binaryStdin(ctx) : createReadStream(file),
          inputName: file ?? 'stdin',
          pgdata: options.pgdata,
          ...(options.owner === undefined ? {} : { owner: options.owner }),
          signal: ctx.signal,
        });
        const pgdata = resolve(options.pgdata);
        if (!result.hasConfig) info(ctx, `note: the backup holds no postgresql.conf/pg_hba.conf (kept outside the data directory); copy yours into ${pgdata} or start postgres with -c config_file=...`);
        info(ctx, `restored ${result.entries} entries into ${pgdata}`);
      });
  },
};
