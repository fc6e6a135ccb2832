/**
 * `sluice decompress PATH...`: decompress backup files where they lie, like `xtrabackup --decompress`
 * on a target directory (`decrypt.ts` does the same for encryption). Each file is written to a temporary
 * name and renamed on success; originals are removed only with --remove-original, after that.
 */
import type { Command } from 'commander';
import type { Decoder } from '../../jobs/stream/index.js';
import { decodeInPlace, type InPlaceFile } from '../../jobs/stream/decode-in-place.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info, warn } from '../log.js';
import { type DecodeOptions, decoderFrom } from '../transform-options.js';
import { formatBytes, parseCount } from '../units.js';

export interface InPlaceCliOptions extends DecodeOptions {
  parallel: string;
  removeOriginal?: boolean;
  force?: boolean;
  verbose?: boolean;
  json?: boolean;
}

export function addInPlaceOptions(command: Command): Command {
  return command
    .option('--parallel <n>', 'files decoded at once', '1')
    .option('--remove-original', 'delete each original file once its decoded copy is in place')
    .option('--force', 'replace decoded files that already exist (default: refuse)')
    .option('-v, --verbose', 'print each file on stderr')
    .option('--json', 'print one JSON document describing the files on stdout');
}

export async function runInPlace(ctx: CliContext, paths: string[], decoder: Decoder, options: InPlaceCliOptions, verb: string): Promise<void> {
  const parallel = parseCount(options.parallel, '--parallel', 1, 64);
  const summary = await decodeInPlace({
    paths,
    decoder,
    parallel,
    removeOriginal: options.removeOriginal === true,
    force: options.force === true,
    signal: ctx.signal,
    onFile: (f: InPlaceFile) => {
      if (options.verbose === true) info(ctx, `${f.path} -> ${f.output} (${formatBytes(f.inBytes)} -> ${formatBytes(f.outBytes)})`);
    },
  });
  if (summary.leftEncoded.length > 0) {
    const some = summary.leftEncoded.slice(0, 3).join(', ');
    warn(ctx, `left ${summary.leftEncoded.length} file(s) as they are, their outer layer is not one this command removes (${some}${summary.leftEncoded.length > 3 ? ', ...' : ''}); encrypted files need sluice decrypt`);
  }
  if (options.json === true) {
    const { files, inBytes, outBytes, leftEncoded } = summary;
    ctx.stdout.write(`${JSON.stringify({ ok: true, files, inBytes, outBytes, leftEncoded }, null, 2)}\n`);
  } else {
    info(ctx, `${verb} ${summary.files.length} files (${formatBytes(summary.inBytes)} -> ${formatBytes(summary.outBytes)})`);
  }
}

export const decompressCommand: CommandModule = {
  name: 'decompress',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('decompress')
      .summary('decompress .zst, .lz4 and .qp files in place (like xtrabackup --decompress)')
      .description(
        'Decompress every .zst, .lz4 and .qp (MariaDB qpress) file under each PATH:\n' +
          'x.zst becomes x. The decoded file appears only once it is complete;\n' +
          'originals stay unless --remove-original. Other files are left alone, but a\n' +
          'file named on the command line must have one of these suffixes.',
      )
      .argument('<paths...>', 'directories (searched recursively) or files')
      .option('--decompress-threads <n>', 'decompression worker threads', '1')
      .option('--max-decoded-size <size>', 'refuse any file that decodes to more than SIZE (default: no limit)');
    addInPlaceOptions(command).action(async (paths: string[], options: InPlaceCliOptions) => {
      const decoder = (await decoderFrom(options, ctx, { decompress: true, decrypt: false })) as Decoder;
      await runInPlace(ctx, paths, decoder, options, 'decompressed');
    });
  },
};
