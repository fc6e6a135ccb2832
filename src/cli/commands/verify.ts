/**
 * `sluice verify [FILE]`: checks a whole xbstream (structure, every CRC, every path) without writing
 * anything, and prints each file's size and SHA-256 and the SHA-256 of the whole stream.
 */
import type { Command } from 'commander';
import { inspectXbstream, type InspectedFile } from '../../container/xbstream/inspect.js';
import { errorMessage, SluiceError } from '../../errors.js';
import { StreamDigest } from '../../filter/digest.js';
import { Meter } from '../../filter/meter.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { streamInput } from '../input.js';
import { showProgress } from '../progress.js';

interface VerifyOptions {
  json?: boolean;
  progress?: boolean;
}

export const verifyCommand: CommandModule = {
  name: 'verify',
  register(program: Command, ctx: CliContext) {
    program
      .command('verify')
      .summary('check an xbstream without extracting it; print per-file and whole-stream SHA-256')
      .description(
        'Read an xbstream from FILE or stdin and check its structure, every chunk CRC and every path, writing\n' +
          'nothing. Prints "sha256  size  path" per file, then the SHA-256 of the whole stream. Exits non-zero\n' +
          'on any defect (4 for a checksum mismatch).',
      )
      .argument('[file]', 'the stream to check (default: stdin)')
      .option('--json', 'print one JSON document on stdout')
      .option('--progress', 'show a progress line on stderr even when it is not a terminal')
      .option('--no-progress', 'never show a progress line')
      .action(async (file: string | undefined, options: VerifyOptions) => {
        const meter = new Meter();
        const digest = new StreamDigest('sha256');
        const files: InspectedFile[] = [];
        const progress = showProgress(ctx, meter, options.progress);
        let summary;
        try {
          summary = await inspectXbstream(digest.filter(meter.filter(streamInput(ctx, file, 'an xbstream'))), (f) => {
            meter.files += 1;
            if (options.json === true) files.push(f);
            else ctx.stdout.write(`${f.sha256 ?? '(rewritten in place)'.padEnd(64)}  ${String(f.size).padStart(12)}  ${f.path}\n`);
          });
        } catch (err) {
          if (options.json === true) {
            const where = err instanceof SluiceError ? err.where : {};
            ctx.stdout.write(`${JSON.stringify({ ok: false, error: errorMessage(err), where, files }, null, 2)}\n`);
          }
          throw err;
        } finally {
          progress.stop();
        }
        const stream = { bytes: digest.bytes, sha256: digest.hex, chunks: summary.chunks, files: summary.files };
        if (options.json === true) {
          ctx.stdout.write(`${JSON.stringify({ ok: true, stream, files, removed: summary.removed, renamed: summary.renamed }, null, 2)}\n`);
        } else {
          ctx.stdout.write(`stream sha256 ${stream.sha256}  ${stream.bytes} bytes  ${stream.chunks} chunks  ${stream.files} files  OK\n`);
        }
      });
  },
};
