/** `sluice load`: load a mydumper-layout dump (a directory, or a stream on stdin) into MySQL/MariaDB. */
import { Command } from 'commander';
import { parseStreamMode, type StreamMode, streamModeFlags } from '../../jobs/mysql/stream-mode.js';
import { UsageError } from '../../errors.js';
import { load as loadDirectory, type LoadOptions, type LoadSummary } from '../../jobs/mysql/load.js';
import { loadStream } from '../../jobs/mysql/load-stream.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { addConnectionOptions, type ConnectionFlags, connectOptions, progressText } from '../dump-load.js';
import { ProgressLine } from '../progress.js';
import { info, warn } from '../log.js';
import { binaryStdin } from '../output.js';
import { formatBytes, parseCount } from '../units.js';

interface LoadFlags extends ConnectionFlags {
  directory?: string;
  threads: string;
  overwriteTables?: boolean;
  database?: string;
  sourceDb?: string;
  queriesPerTransaction: string;
  enableBinlog?: boolean;
  deferIndexes?: boolean;
  data: boolean;
  skipTriggers?: boolean;
  skipPost?: boolean;
  stream?: string;
  json?: boolean;
  quiet?: boolean;
}

export const loadCommand: CommandModule = {
  name: 'load',
  optionalValues: { '--stream': ['TRADITIONAL', 'NO_DELETE', 'NO_STREAM_AND_NO_DELETE', 'NO_STREAM'] },
  register(program, ctx) {
    const cmd = new Command('load').description(
      'load a dump in mydumper\'s layout (made by sluice dump or mydumper) into MySQL/MariaDB, in parallel; ' +
        'with --stream, read a mydumper stream from stdin and load tables while it arrives',
    );
    addConnectionOptions(cmd)
      .option('-d, --directory <dir>', 'the dump directory (with --stream: where arriving files are put)')
      .option('-t, --threads <n>', 'parallel connections', '4')
      .option('-o, --overwrite-tables', 'drop tables and views that already exist')
      .option('-B, --database <name>', 'load everything into this database (created if missing)')
      .option('-s, --source-db <name>', 'load only this database of the dump')
      .option('-q, --queries-per-transaction <n>', 'statements per transaction', '1000')
      .option('-e, --enable-binlog', 'write the load to the binary log (off by default)')
      .option('--defer-indexes', 'create secondary indexes after the data, one ALTER TABLE per table (the default)')
      .option('--no-defer-indexes', 'create secondary indexes with the table, before the data')
      .option('--no-data', 'schemas only')
      .option('--skip-triggers', 'do not create triggers')
      .option('--skip-post', 'do not create routines and events')
      .option('--stream [mode]', 'read a mydumper stream from stdin: TRADITIONAL (default), NO_DELETE, NO_STREAM_AND_NO_DELETE, NO_STREAM')
      .option('--json', 'print the summary as JSON on stdout')
      .option('--quiet', 'no progress and no summary')
      .action(async (flags: LoadFlags) => {
        await load(flags, ctx);
      });
    program.addCommand(cmd);
  },
};

async function load(flags: LoadFlags, ctx: CliContext): Promise<void> {
  const mode: StreamMode | undefined = flags.stream === undefined ? undefined : parseStreamMode(flags.stream);
  const quiet = flags.quiet === true;
  const progress = new ProgressLine(ctx, { enabled: !quiet, logPrefix: 'sluice: ' });
  const options: LoadOptions = {
    connection: connectOptions(flags, ctx),
    threads: parseCount(flags.threads, '--threads', 1, 256),
    overwriteTables: flags.overwriteTables === true,
    ...(flags.database === undefined ? {} : { targetDatabase: flags.database }),
    ...(flags.sourceDb === undefined ? {} : { sourceDatabase: flags.sourceDb }),
    queriesPerTransaction: parseCount(flags.queriesPerTransaction, '--queries-per-transaction', 0, 1_000_000_000),
    enableBinlog: flags.enableBinlog === true,
    deferIndexes: flags.deferIndexes !== false,
    noData: !flags.data,
    skipTriggers: flags.skipTriggers === true,
    skipPost: flags.skipPost === true,
    onProgress: (p) => progress.update(`files ${p.filesDone}/${p.files}, ${progressText(p)}`, p.elapsedMs),
    onWarning: (m) => warn(ctx, m),
    signal: ctx.signal,
  };
  let summary: LoadSummary;
  try {
    if (mode === undefined) {
      if (flags.directory === undefined) throw new UsageError('--directory is required (or --stream to read stdin)');
      summary = await loadDirectory({ ...options, directory: flags.directory });
    } else {
      const input = binaryStdin(ctx, 'a mydumper stream');
      if (!streamModeFlags(mode).sendContent && flags.directory === undefined) {
        throw new UsageError(`--stream=${mode} needs --directory: the files are read from it`);
      }
      summary = await loadStream({ ...options, input, mode, ...(flags.directory === undefined ? {} : { directory: flags.directory }) });
    }
  } finally {
    progress.done();
  }
  if (flags.json === true) {
    ctx.stdout.write(`${JSON.stringify({ ...summary, seconds: Number(summary.seconds.toFixed(3)) })}\n`);
  } else if (!quiet) {
    info(
      ctx,
      `loaded ${summary.tables} table(s) and ${summary.views} view(s) of ${summary.databases} database(s) from ${summary.files} files: ` +
        `${summary.rows} rows, ${formatBytes(summary.bytes)} of SQL in ${summary.seconds.toFixed(1)} s`,
    );
  }
}

