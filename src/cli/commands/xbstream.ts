/**
 * `sluice xbstream -x|-c|-t`: an xbstream/mbstream-compatible tool. Extraction validates every chunk
 * and path, writes only inside the target directory, creates parents at any depth, and fails loudly
 * (where mbstream exits 0 after errors).
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readXbstream } from '../../container/xbstream/reader.js';
import { inspectXbstream } from '../../container/xbstream/inspect.js';
import { writeXbstream } from '../../container/xbstream/writer.js';
import { type Entry, toSafePath } from '../../entry.js';
import { UsageError } from '../../errors.js';
import { Meter } from '../../filter/meter.js';
import { BufferPool } from '../../bytes/buffer-pool.js';
import { CountedBlocks } from '../../bytes/counted-blocks.js';
import { DEFAULT_READ_BYTES } from '../../source/dir.js';
import { applyXbstreamEvents } from '../../sink/apply-xbstream.js';
import { DirectorySink } from '../../sink/dir.js';
import { fileEntryFor, readDirectory } from '../../source/dir.js';
import { FileReader } from '../../source/file-reader.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { countedInput, INPUT_BLOCK_BYTES, streamInput } from '../input.js';
import { info, warn } from '../log.js';
import { showProgress } from '../progress.js';
import { SkipReport, xbstreamWriterReports } from '../skip-report.js';
import { addStreamOutputOptions, sendToStdout, type StreamOutputOptions } from '../stream-output.js';
import { parseCount } from '../units.js';
import { decodeXbstreamEvents } from '../../container/xbstream/decoded-events.js';
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
  // Undecoded payloads go to the files as views of the input blocks, so those blocks can be recycled;
  // a decoder keeps its input in ways the extractor cannot track, so it gets blocks of its own.
  const blocks = decoder === undefined ? new CountedBlocks(INPUT_BLOCK_BYTES) : undefined;
  const input = blocks === undefined ? streamInput(ctx, undefined, 'an xbstream') : countedInput(ctx, undefined, 'an xbstream', blocks);
  // One writer writes synchronously, as mbstream does; --parallel N keeps N writes in flight on libuv's threads.
  const sink = await DirectorySink.create(options.directory ?? '.', { overwrite: options.overwrite === true, synchronousWrites: parallel === 1 });
  const meter = new Meter();
  const progress = showProgress(ctx, meter, options.progress);
  try {
    const events = readXbstream(meter.filter(input));
    await applyXbstreamEvents(decoder === undefined ? events : decodeXbstreamEvents(events, decoder), sink, {
      parallel,
      blocks,
      onFile: (path, size) => {
        meter.files += 1;
        if (options.verbose === true) info(ctx, `${path} (${size} bytes)`);
      },
      onWarning: (message) => warn(ctx, message),
    });
  } finally {
    progress.stop();
  }
}

async function list(ctx: CliContext, options: XbstreamOptions): Promise<void> {
  const input = countedInput(ctx, undefined, 'an xbstream');
  await inspectXbstream(
    input,
    (file) => {
      ctx.stdout.write(options.json === true ? `${JSON.stringify({ path: file.path, size: file.size })}\n` : `${String(file.size).padStart(12)}  ${file.path}\n`);
    },
    { hash: false },
  );
}

async function create(ctx: CliContext, files: string[], parallel: number, options: XbstreamOptions): Promise<void> {
  if (files.length === 0) throw new UsageError('-c needs at least one file or directory');
  const base = options.directory ?? '.';
  const skips = new SkipReport();
  const meter = new Meter();
  const pool = new BufferPool(DEFAULT_READ_BYTES, 16, true);
  const reader = new FileReader(pool, { threads: 2, readAhead: parallel > 2 ? 1 : 2 });
  async function* entries(): AsyncGenerator<Entry> {
    for (const name of files) {
      const rel = toSafePath(name.replace(/^\.\//, '').replace(/\/+$/, ''));
      const full = join(base, rel);
      if ((await lstat(full)).isDirectory()) yield* readDirectory(full, { prefix: rel, pool, reader, statFiles: false, signal: ctx.signal, onSkip: (p, why) => skips.add(`skipped: ${why}`, p) });
      else yield await fileEntryFor(full, rel, { pool, reader });
    }
  }
  const bytes = writeXbstream(entries(), {
    parallel,
    onFile: (path, size) => {
      meter.files += 1;
      if (options.verbose === true) info(ctx, `${path} (${size} bytes)`);
    },
    ...xbstreamWriterReports(skips),
  });
  try {
    await sendToStdout(ctx, bytes, meter, options, pool);
  } finally {
    await reader.close();
  }
  skips.print(ctx);
}
