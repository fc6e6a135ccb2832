/** `sluice dump`: a consistent parallel logical dump of MySQL/MariaDB in mydumper's layout. */
import { Command } from 'commander';
import { parseStreamMode, type StreamMode } from '../../jobs/mysql/stream-mode.js';
import { UsageError } from '../../errors.js';
import { dump as runDumpJob, type DumpSummary, type LockMode } from '../../jobs/mysql/dump.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { addConnectionOptions, type ConnectionFlags, connectOptions, progressText } from '../dump-load.js';
import { ProgressLine } from '../progress.js';
import { info, warn } from '../log.js';
import { binaryStdout } from '../output.js';
import { formatBytes, parseCount } from '../units.js';
import { VERSION } from '../version.js';

interface DumpFlags extends ConnectionFlags {
  database?: string;
  tablesList?: string;
  regex?: string;
  threads: string;
  rows?: string;
  chunkFilesize?: string;
  statementSize?: string;
  outputdir?: string;
  compress?: string | boolean;
  compressLevel?: string;
  data: boolean;
  schemas: boolean;
  views: boolean;
  triggers?: boolean;
  events?: boolean;
  routines?: boolean;
  where?: string;
  locks: boolean;
  trxConsistencyOnly?: boolean;
  hexBlob?: boolean;
  completeInsert?: boolean;
  stream?: string;
  json?: boolean;
  quiet?: boolean;
}

export const dumpCommand: CommandModule = {
  name: 'dump',
  optionalValues: { '--stream': ['TRADITIONAL', 'NO_DELETE', 'NO_STREAM_AND_NO_DELETE', 'NO_STREAM'] },
  register(program, ctx) {
    const cmd = new Command('dump')
      .description(
        'dump MySQL/MariaDB databases in parallel, from one consistent snapshot, in mydumper\'s directory layout ' +
          '(or as a mydumper stream on stdout with --stream)',
      );
    addConnectionOptions(cmd)
      .option('-B, --database <names>', 'databases to dump, comma-separated (default: all but the system ones)')
      .option('-T, --tables-list <list>', 'tables to dump: db.t1,db.t2')
      .option('-x, --regex <regex>', 'dump only tables whose "db.table" matches this regular expression')
      .option('-t, --threads <n>', 'parallel connections', '4')
      .option('-r, --rows <n>', 'cut tables into chunks of about N rows (default: about 64 MiB per chunk; 0: off)')
      .option('-F, --chunk-filesize <MB>', 'start a new data file after N MB')
      .option('-s, --statement-size <bytes>', 'bytes per INSERT statement', '1000000')
      .option('-o, --outputdir <dir>', 'output directory (default ./export-YYYYMMDD-HHMMSS; a temporary one with --stream)')
      .option('-c, --compress [method]', 'compress data and schema files: zstd (default) or gzip')
      .option('--compress-level <n>', 'compression level (gzip 1-9, default 6; zstd 1-19, default 1)')
      .option('-d, --no-data', 'schemas only')
      .option('-m, --no-schemas', 'data only')
      .option('-W, --no-views', 'leave views out')
      .option('-G, --triggers', 'dump triggers')
      .option('-E, --events', 'dump events')
      .option('-R, --routines', 'dump stored procedures and functions')
      .option('--where <condition>', 'dump only rows matching this SQL condition (every table)')
      .option('-k, --no-locks', 'take no global read lock (the dump may be inconsistent)')
      .option('--trx-consistency-only', 'release the global read lock as soon as every thread has its snapshot')
      .option('--hex-blob', 'write binary columns as 0x... hex literals')
      .option('--complete-insert', 'always name the columns in INSERT statements')
      .option('--stream [mode]', 'write a mydumper stream to stdout: TRADITIONAL (default), NO_DELETE, NO_STREAM_AND_NO_DELETE, NO_STREAM')
      .option('--json', 'print the summary as JSON (on stdout, or on stderr with --stream)')
      .option('-q, --quiet', 'no progress and no summary')
      .action(async (flags: DumpFlags) => {
        await dump(flags, ctx);
      });
    program.addCommand(cmd);
  },
};

async function dump(flags: DumpFlags, ctx: CliContext): Promise<void> {
  const mode: StreamMode | undefined = flags.stream === undefined ? undefined : parseStreamMode(flags.stream);
  const threads = parseCount(flags.threads, '--threads', 1, 256);
  let compress: 'zstd' | 'gzip' | undefined;
  if (flags.compress !== undefined && flags.compress !== false) {
    const c = flags.compress === true ? 'zstd' : flags.compress.toLowerCase();
    if (c !== 'zstd' && c !== 'gzip') throw new UsageError(`--compress: "${c}" is not zstd or gzip`);
    compress = c;
  }
  let regex: RegExp | undefined;
  if (flags.regex !== undefined) {
    try {
      regex = new RegExp(flags.regex);
    } catch (err) {
      throw new UsageError(`--regex: ${(err as Error).message}`);
    }
  }
  if (flags.locks === false && flags.trxConsistencyOnly === true) {
    throw new UsageError('--no-locks and --trx-consistency-only exclude each other');
  }
  const lock: LockMode = flags.locks === false ? 'none' : flags.trxConsistencyOnly === true ? 'trx-only' : 'ftwrl';
  if (mode === 'NO_STREAM_AND_NO_DELETE' && flags.outputdir === undefined) {
    throw new UsageError('--stream=NO_STREAM_AND_NO_DELETE needs --outputdir: the loader reads the files from it');
  }
  const out = mode === undefined ? undefined : binaryStdout(ctx, 'a mydumper stream');
  const quiet = flags.quiet === true;
  const progress = new ProgressLine(ctx, { enabled: !quiet, logPrefix: 'sluice: ' });
  let summary: DumpSummary;
  try {
    summary = await runDumpJob({
      connection: connectOptions(flags, ctx),
      ...(flags.outputdir === undefined ? {} : { outputDir: flags.outputdir }),
      ...(mode === undefined || out === undefined ? {} : { stream: { mode, output: out } }),
      threads,
      ...(flags.database === undefined ? {} : { databases: splitList(flags.database) }),
      ...(flags.tablesList === undefined ? {} : { tables: splitList(flags.tablesList) }),
      ...(regex === undefined ? {} : { regex }),
      ...(flags.rows === undefined ? {} : { rows: parseCount(flags.rows, '--rows', 0, Number.MAX_SAFE_INTEGER) }),
      ...(flags.chunkFilesize === undefined
        ? {}
        : { chunkFileBytes: parseCount(flags.chunkFilesize, '--chunk-filesize', 0, 1 << 20) * 1024 * 1024 }),
      statementBytes: parseCount(flags.statementSize ?? '1000000', '--statement-size', 1024, 1 << 30),
      ...(compress === undefined ? {} : { compress }),
      ...(flags.compressLevel === undefined ? {} : { compressLevel: parseCount(flags.compressLevel, '--compress-level', 1, 22) }),
      noData: !flags.data,
      noSchemas: !flags.schemas,
      noViews: !flags.views,
      triggers: flags.triggers === true,
      events: flags.events === true,
      routines: flags.routines === true,
      ...(flags.where === undefined ? {} : { where: flags.where }),
      lock,
      hexBlob: flags.hexBlob === true,
      completeInsert: flags.completeInsert === true,
      onProgress: (p) => progress.update(progressText(p), p.elapsedMs),
      onWarning: (m) => warn(ctx, m),
      signal: ctx.signal,
      tool: `sluice ${VERSION}`,
    });
  } finally {
    progress.done();
  }
  const streamed = summary.streamBytes;
  const json = {
    outputDir: summary.outputDir,
    databases: summary.databases,
    tables: summary.tables,
    views: summary.views,
    rows: summary.rows,
    sqlBytes: summary.bytes,
    fileBytes: summary.fileBytes,
    files: summary.files,
    streamBytes: streamed,
    seconds: Number(summary.seconds.toFixed(3)),
    consistent: summary.consistent,
    binlog: summary.binlog,
  };
  if (flags.json === true) {
    (mode === undefined ? ctx.stdout : ctx.stderr).write(`${JSON.stringify(json)}\n`);
  } else if (!quiet) {
    const b = summary.binlog;
    const where = b.file !== undefined ? `, binlog ${b.file}:${b.position ?? ''}` : '';
    const gtid = b.gtid !== undefined ? `, GTID ${b.gtid}` : '';
    info(
      ctx,
      `dumped ${summary.tables} table(s) and ${summary.views} view(s) of ${summary.databases} database(s): ` +
        `${summary.rows} rows, ${formatBytes(summary.fileBytes)} in ${summary.files} files` +
        `${streamed === null ? ` to ${summary.outputDir ?? ''}` : `, ${formatBytes(streamed)} streamed`}` +
        ` in ${summary.seconds.toFixed(1)} s${where}${gtid}`,
    );
  }
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
