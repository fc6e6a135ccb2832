/** `sluice init`: creates an empty repository (a master key wrapped by the password, and the config). */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { toHex } from '../../repo/crypto/blob-id.js';
import { Repository, RepositoryExistsError } from '../../repo/repository.js';
import { LocalDirStore } from '../../repo/storage/local.js';
import { closeObjectStore, parseRepoLocation } from '../../repo/storage/open.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { addRepoOptions, kdfParams, openStore, printJson, readInitPassword, repoClientInfo, repoLocation, type RepoOptions } from '../repo-options.js';
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
      // An S3 bucket is made and probed now (the probe refuses a server without create-once writes);
      // a local directory only once the password is confirmed, so a mismatch leaves nothing behind.
      const local = parseRepoLocation(repoLocation(ctx, options)).kind === 'local';
      const store = await openStore(ctx, options, !local);
      try {
        if (await Repository.exists(store)) throw new RepositoryExistsError(store.location);
        const password = await readInitPassword(ctx, options);
        if (store instanceof LocalDirStore) await store.create();
        const repo = await Repository.init(store, password, {
          ...repoClientInfo(ctx, options),
          compressionLevel,
          ...(kdf === undefined ? {} : { kdf }),
          ...(packSize === undefined ? {} : { packSize }),
        });
        const where = store instanceof LocalDirStore ? store.root : store.location;
        if (options.json === true) printJson(ctx, { id: toHex(repo.config.id), location: where });
        else info(ctx, `created repository ${repo.id.slice(0, 10)} at ${where}`);
      } finally {
        closeObjectStore(store);
      }
    });
  },
};
