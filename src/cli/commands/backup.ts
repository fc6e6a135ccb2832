/** `sluice backup --stream[=xbstream|tar] DIR`: a streaming backup of a directory tree to stdout. */
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { writeXbstream } from '../../container/xbstream/writer.js';
import type { Entry } from '../../entry.js';
import { UsageError } from '../../errors.js';
import { Meter } from '../../filter/meter.js';
import { BufferPool } from '../../bytes/buffer-pool.js';
import { DEFAULT_READ_BYTES } from '../../source/dir.js';
import { readDirectory } from '../../source/dir.js';
import { FileReader } from '../../source/file-reader.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { SkipReport, xbstreamWriterReports } from '../skip-report.js';
import { addStreamOutputOptions, sendToStdout, type StreamOutputOptions } from '../stream-output.js';
import { parseCount } from '../units.js';
import { applyToFiles, mapEntries } from '../../transform/entry-transform.js';
import { prefetchFiles } from '../../transform/prefetch.js';
import { addEncodeOptions, ENCODE_OPTIONAL_VALUES, type EncodeOptions, encodeTransformsFrom } from '../transform-options.js';
import { addConnectionOptions } from '../dump-load.js';
import { addMariadbBackupOptions, addPostgresBackupOptions, type MariadbBackupOptions, type PostgresBackupOptions, runMariadbBackup, runPostgresBackup } from './backup-mariadb.js';

export const STREAM_FORMATS = ['xbstream', 'tar', 'mbstream'] as const;

/** Read block size when files are compressed or encrypted (the codecs' default block is 4 MiB too). */
const CODEC_READ_BYTES = 4 << 20;
/** Files whose codec work starts ahead of the container (tree, zstd: 8 files 4.0 s / 224 MiB, 16 3.7 s / 234 MiB, 32 3.4 s / 268 MiB). */
const PREFETCH_FILES = 16;

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
      const skips = new SkipReport();
      const meter = new Meter();
      const onFile = (path: string, size: number): void => {
        meter.files += 1;
        if (options.verbose === true) info(ctx, `${path} (${size} bytes)`);
      };
      // With codec work, files are cut into the codec's own blocks and several are prefetched for the
      // workers: smaller read blocks, read one ahead, keep that from holding 30 MiB per file (tree of
      // 5,000 files, zstd: peak RSS 448 -> 253 MiB, no slower). Without it, reads of 10 MiB make chunks
      // exactly like mbstream's.
      const coding = options.compress !== undefined || options.encrypt !== undefined;
      const pool = new BufferPool(coding ? CODEC_READ_BYTES : DEFAULT_READ_BYTES, 16, true);
      const reader = new FileReader(pool, { threads: 2, readAhead: coding || parallel > 2 ? 1 : 2 });
      const transforms = await encodeTransformsFrom(options, ctx, pool);
      const transformed = mapEntries(readDirectory(dir, {
        pool,
        reader,
        statFiles: format === 'tar', // xbstream stores no size, mode or time
        signal: ctx.signal,
        onSkip: (path, reason) => skips.add(`skipped: ${reason}`, path),
      }), applyToFiles(transforms));
      // with codec work per file, start the next files' content early so the workers stay busy
      const entries: AsyncIterable<Entry> = transforms.length > 0 ? prefetchFiles(transformed, { files: PREFETCH_FILES }) : transformed;
      const bytes =
        format === 'xbstream'
          ? writeXbstream(entries, {
              parallel,
              onFile,
              ...xbstreamWriterReports(skips),
            })
          : (await import('../../container/tar/writer.js')).writeTar(entries, { // `tar` costs start-up: loaded only for tar
              spoolDirectory: tmpdir(),
              onFile,
              onWarning: (path, message) => skips.add(`changed while being read: ${message}`, path),
            });
      try {
        await sendToStdout(ctx, bytes, meter, options, pool);
      } finally {
        await reader.close();
      }
      skips.print(ctx);
    });
  },
};
