/**
 * `sluice xbstream -x|-c|-t`: an xbstream/mbstream-compatible tool. Extraction validates every chunk
 * and path, writes only inside the target directory, creates parents at any depth, and fails loudly
 * (where mbstream exits 0 after errors).
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { createXbstream } from '../../jobs/stream/create-xbstream.js';
import { extractStream } from '../../jobs/stream/extract.js';
import { listStream } from '../../jobs/stream/list.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { countedInput, extractorInput } from '../input.js';
import { info, warn } from '../log.js';
import { showStreamProgress } from '../progress.js';
import { SkipReport } from '../skip-report.js';
import { addStreamOutputOptions, type StreamOutputOptions, streamOutputFrom, writeChecksumFile } from '../stream-output.js';
import { parseCount } from '../units.js';
import { addDecodeOptions, DECODE_OPTIONAL_VALUES, type DecodeOptions, decoderFrom } from '../transform-options.js';

interface XbstreamOptions extends StreamOutputOptions, DecodeOptions {
  extract?: boolean;
  create?: boolean;
  list?: boolean;
  directory?: string;
  parallel: string;
  verbose?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

export const xbstreamCommand: CommandModule = {
  name: 'xbstream',
  optionalValues: DECODE_OPTIONAL_VALUES,
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('xbstream')
      .summary('create, extract or list xbstream archives (compatible with xbstream/mbstream)')
      .description(
        'Create (-c), extract (-x) or list (-t) an xbstream on stdin/stdout, like Percona xbstream and\n' +
          'MariaDB mbstream. Extraction checks every CRC and path, never writes outside the target directory,\n' +
          'creates parent directories at any depth, and exits non-zero on any defect.',
      )
      .argument('[files...]', 'with -c: files or directories to put in the stream (relative paths)')
      .option('-x, --extract', 'extract the stream on stdin')
      .option('-c, --create', 'write the named files to stdout as an xbstream')
      .option('-t, --list', 'list the files in the stream on stdin (path and size)')
      .option('-C, --directory <dir>', 'extract into (or, with -c, read files relative to) DIR')
      .option('-p, --parallel <n>', 'with -x: writes in flight; with -c: files read at once', '1')
      .option('-v, --verbose', 'print each file name on stderr')
      .option('--overwrite', 'with -x: replace files that already exist (default: refuse, like mbstream)')
      .option('--json', 'with -t: one JSON object per file on stdout');
    addDecodeOptions(command);
    addStreamOutputOptions(command).action(async (files: string[], options: XbstreamOptions) => {
      const modes = [options.extract, options.create, options.list].filter((m) => m === true).length;
      if (modes !== 1) throw new UsageError('choose exactly one of -x (extract), -c (create) or -t (list)');
      const parallel = parseCount(options.parallel, '--parallel', 1, 64);
      if (options.create === true) return create(ctx, files, parallel, options);
      if (files.length > 0) throw new UsageError('file arguments are only for -c; -x and -t read the stream from stdin');
      if (options.list === true) return list(ctx, options);
      return extract(ctx, parallel, options);
    });
  },
};

async function extract(ctx: CliContext, parallel: number, options: XbstreamOptions): Promise<void> {
  const decoder = await decoderFrom(options, ctx);
  const input = extractorInput(ctx, 'an xbstream', decoder !== undefined);
  const progress = showStreamProgress(ctx, options.progress);
  try {
    await extractStream({
      ...input,
      ...(decoder === undefined ? {} : { decoder }),
      directory: options.directory ?? '.',
      overwrite: options.overwrite === true,
      parallel,
      onFile: (path, size) => {
        if (options.verbose === true) info(ctx, `${path} (${size} bytes)`);
      },
      onWarning: (message) => warn(ctx, message),
      onProgress: progress.onProgress,
    });
  } finally {
    progress.stop();
  }
}

async function list(ctx: CliContext, options: XbstreamOptions): Promise<void> {
  await listStream({
    input: countedInput(ctx, undefined, 'an xbstream'),
    onFile: (file) => {
      ctx.stdout.write(options.json === true ? `${JSON.stringify({ path: file.path, size: file.size })}\n` : `${String(file.size).padStart(12)}  ${file.path}\n`);
    },
  });
}

async function create(ctx: CliContext, files: string[], parallel: number, options: XbstreamOptions): Promise<void> {
  if (files.length === 0) throw new UsageError('-c needs at least one file or directory');
  const output = streamOutputFrom(ctx, options);
  const skips = new SkipReport();
  const progress = showStreamProgress(ctx, options.progress);
  let sent;
  try {
    sent = await createXbstream({
      ...output,
      files,
      directory: options.directory ?? '.',
      parallel,
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
}
