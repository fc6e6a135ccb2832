/**
 * `sluice verify [FILE]`: checks a whole xbstream (structure, every CRC, every path) without writing
 * anything, and prints each file's size and SHA-256 and the SHA-256 of the whole stream.
 */
import type { Command } from 'commander';
import { errorMessage, SluiceError } from '../../errors.js';
import { verifyStream, type VerifyStreamResult } from '../../jobs/stream/verify.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { countedInput, streamInput } from '../input.js';
import { showStreamProgress } from '../progress.js';
import { addDecodeOptions, DECODE_OPTIONAL_VALUES, type DecodeOptions, decoderFrom, encodingReport } from '../transform-options.js';

interface VerifyOptions extends DecodeOptions {
  json?: boolean;
  progress?: boolean;
}

export const verifyCommand: CommandModule = {
  name: 'verify',
  optionalValues: DECODE_OPTIONAL_VALUES,
  register(program: Command, ctx: CliContext) {
    const command = program
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
      .option('--no-progress', 'never show a progress line');
    addDecodeOptions(command)
      .action(async (file: string | undefined, options: VerifyOptions) => {
        const decoder = await decoderFrom(options, ctx); // before the digest starts its worker: a usage error must not leave it running
        const files: object[] = []; // with --json: each file with its encoding report
        const progress = showStreamProgress(ctx, options.progress);
        let result: VerifyStreamResult;
        try {
          // Without a decoder every chunk is hashed and checked before the next is read: blocks can be recycled.
          const input = decoder === undefined ? countedInput(ctx, file, 'an xbstream') : streamInput(ctx, file, 'an xbstream');
          result = await verifyStream({
            input,
            ...(decoder === undefined ? {} : { decoder }),
            onFile: (f) => {
              const encoding = encodingReport(f);
              if (options.json === true) files.push({ ...f, ...encoding.json });
              else ctx.stdout.write(`${f.sha256 ?? '(rewritten in place)'.padEnd(64)}  ${String(f.size).padStart(12)}  ${f.path}${encoding.text}\n`);
            },
            onProgress: progress.onProgress,
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
        const { stream, removed, renamed } = result;
        if (options.json === true) {
          ctx.stdout.write(`${JSON.stringify({ ok: true, stream, files, removed, renamed }, null, 2)}\n`);
        } else {
          ctx.stdout.write(`stream sha256 ${stream.sha256}  ${stream.bytes} bytes  ${stream.chunks} chunks  ${stream.files} files  OK\n`);
        }
      });
  },
};
