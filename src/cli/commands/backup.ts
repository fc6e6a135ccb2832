/** `sluice backup --stream[=xbstream|tar] DIR`: a streaming backup of a directory tree to stdout. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { backupStream } from '../../jobs/stream/backup.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { showStreamProgress } from '../progress.js';
import { SkipReport } from '../skip-report.js';
import { addStreamOutputOptions, type StreamOutputOptions, streamOutputFrom, writeChecksumFile } from '../stream-output.js';
import { parseCount } from '../units.js';
import { addEncodeOptions, ENCODE_OPTIONAL_VALUES, type EncodeOptions, encodeChainOptionsFrom } from '../transform-options.js';
import { addConnectionOptions } from '../dump-load.js';
import { addMariadbBackupOptions, addPostgresBackupOptions, type MariadbBackupOptions, type PostgresBackupOptions, runMariadbBackup, runPostgresBackup } from './backup-mariadb.js';

export const STREAM_FORMATS = ['xbstream', 'tar', 'mbstream'] as const;

interface BackupOptions extends StreamOutputOptions, EncodeOptions, MariadbBackupOptions, PostgresBackupOptions {
  stream: string;
  parallel: string;
  verbose?: boolean;
}

export const backupCommand: CommandModule = {
  name: 'backup',
  optionalValues: { '--stream': STREAM_FORMATS, ...ENCODE_OPTIONAL_VALUES },
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('backup')
      .summary('stream a backup of a directory tree to stdout (xbstream or tar)')
      .description(
        'Stream a backup of DIR to stdout. xbstream (the default) is byte-compatible with Percona xbstream and\n' +
          'MariaDB mbstream; tar is read by GNU tar. Paths in the stream are relative to DIR.',
      )
      .argument('[dir]', 'directory to back up (none with --mariadb)')
      .option('--stream [format]', 'stream format: xbstream (default; mbstream is a synonym) or tar', 'xbstream')
      .option('--parallel <n>', 'files read at once; in xbstream their chunks interleave', '1')
      .option('-v, --verbose', 'list each file on stderr as it is sent');
    addEncodeOptions(command);
    addPostgresBackupOptions(addConnectionOptions(addMariadbBackupOptions(command)));
    command.allowExcessArguments(true);
    addStreamOutputOptions(command).action(async (dir: string | undefined, options: BackupOptions) => {
      const raw = (command.parent as (Command & { rawArgs?: string[] }) | null)?.rawArgs ?? [];
      const dashes = raw.indexOf('--');
      if (options.mariadb === true) {
        if (dir !== undefined && (dashes < 0 || raw.indexOf(dir) < dashes)) throw new UsageError('backup --mariadb takes no directory (mariabackup arguments go after --)');
        await runMariadbBackup(options, dashes < 0 ? [] : raw.slice(dashes + 1), ctx);
        return;
      }
      if (options.postgres === true) {
        if (dir !== undefined && (dashes < 0 || raw.indexOf(dir) < dashes)) throw new UsageError('backup --postgres takes no directory (pg_basebackup arguments go after --)');
        await runPostgresBackup(options, dashes < 0 ? [] : raw.slice(dashes + 1), ctx);
        return;
      }
      if (dir === undefined) throw new UsageError('backup needs a directory (or --mariadb)');
      if (dashes >= 0 || command.args.length > 1) throw new UsageError('backup takes one directory');
      const format = options.stream === 'mbstream' ? 'xbstream' : options.stream;
      if (format !== 'xbstream' && format !== 'tar') {
        throw new UsageError(`--stream must be xbstream or tar, not "${options.stream}"`);
      }
      const parallel = parseCount(options.parallel, '--parallel', 1, 64);
      const encode = encodeChainOptionsFrom(options);
      const output = streamOutputFrom(ctx, options);
      const skips = new SkipReport();
      const progress = showStreamProgress(ctx, options.progress);
      let sent;
      try {
        sent = await backupStream({
          ...output,
          directory: dir,
          format,
          parallel,
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
      skips.print(ctx);
    });
  },
};
