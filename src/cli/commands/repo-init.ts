/** `sluice init`: creates an empty repository (a master key wrapped by the password, and the config). */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { initRepository } from '../../jobs/repository/init.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { addRepoOptions, cacheDir, kdfParams, printJson, readInitPassword, repoLocation, type RepoOptions, s3Options, userName } from '../repo-options.js';
import { parseSize } from '../units.js';

interface InitOptions extends RepoOptions {
  kdf?: string;
  compression: string;
  packSize?: string;
}

/** `auto`/`fastest` (zstd 1), `off` (0), `max` (zstd 19) or a zstd level. */
export function parseCompression(text: string): number {
  if (text === 'auto' || text === 'fastest') return 1;
  if (text === 'off') return 0;
  if (text === 'better') return 6;
  if (text === 'max') return 19;
  const n = Number(text);
  if (!Number.isInteger(n) || n < -7 || n > 22) throw new UsageError(`--compression: "${text}" is not auto, off, better, max or a zstd level from -7 to 22`);
  return n;
}

export const initCommand: CommandModule = {
  name: 'init',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('init')
      .summary('create a new repository')
      .description(
        'Create an empty, encrypted repository. A random master key is made and wrapped with a key derived\n' +
          'from the password (scrypt); more passwords can be added with `sluice key add`. Without ' +
          '--password-file or $SLUICE_PASSWORD(_FILE), the password is asked twice on the terminal (not echoed).',
      )
      .option('--kdf <params>', 'scrypt parameters for the key file, e.g. N=131072,r=8,p=1 (default; $SLUICE_KDF)')
      .option('--compression <mode>', 'default compression of data: auto (zstd level 1, skipped when it does not shrink), off, better, max, or a level', 'auto')
      .option('--pack-size <size>', 'target size of pack files (default 32M)')
      .option('--json', 'print the new repository id as JSON');
    addRepoOptions(command).action(async (options: InitOptions) => {
      // Everything that can refuse does so before the password is typed (twice).
      const kdf = kdfParams(ctx, options.kdf);
      const packSize = options.packSize === undefined ? undefined : parseSize(options.packSize, '--pack-size');
      const compressionLevel = parseCompression(options.compression);
      const cache = cacheDir(ctx, options);
      const created = await initRepository({
        location: repoLocation(ctx, options),
        s3: s3Options(ctx, options),
        password: () => readInitPassword(ctx, options),
        compressionLevel,
        ...(kdf === undefined ? {} : { kdf }),
        ...(packSize === undefined ? {} : { packSize }),
        client: { user: userName(ctx) },
        ...(cache === undefined ? {} : { cacheDir: cache }),
      });
      if (options.json === true) printJson(ctx, { id: created.id, location: created.location });
      else info(ctx, `created repository ${created.id.slice(0, 10)} at ${created.location}`);
    });
  },
};
