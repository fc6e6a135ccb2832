/** `sluice decrypt PATH...`: decrypt backup files where they lie, like `xtrabackup --decrypt`. */
import type { Command } from 'commander';
import type { Decoder } from '../../jobs/stream/index.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { addDecodeOptions, DECODE_OPTIONAL_VALUES, decoderFrom } from '../transform-options.js';
import { addInPlaceOptions, type InPlaceCliOptions, runInPlace } from './decompress.js';

export const decryptCommand: CommandModule = {
  name: 'decrypt',
  optionalValues: DECODE_OPTIONAL_VALUES,
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('decrypt')
      .summary('decrypt .age and Percona .xbcrypt files in place (like xtrabackup --decrypt)')
      .description(
        'Decrypt every .age file (with --identity or --passphrase-file) and every\n' +
          'Percona .xbcrypt file (with --encrypt-key or --encrypt-key-file) under each\n' +
          'PATH: x.zst.age becomes x.zst, or x with --decompress. The decoded file\n' +
          'appears only once it is complete; originals stay unless --remove-original.\n' +
          'xbcrypt is not authenticated: a wrong key or damage is detected, deliberate\n' +
          'tampering may not be.',
      )
      .argument('<paths...>', 'directories (searched recursively) or files');
    addDecodeOptions(command);
    addInPlaceOptions(command).action(async (paths: string[], options: InPlaceCliOptions) => {
      const decoder = (await decoderFrom(options, ctx, { decrypt: true, decompress: options.decompress === true })) as Decoder;
      await runInPlace(ctx, paths, decoder, options, options.decompress === true ? 'decrypted and decompressed' : 'decrypted');
    });
  },
};
