/** Creating a repository: a random master key wrapped by the password, and the config. */
import { toHex } from '../../repo/crypto/blob-id.js';
import type { ScryptParams } from '../../repo/keys.js';
import { Repository, RepositoryExistsError } from '../../repo/repository.js';
import { LocalDirStore } from '../../repo/storage/local.js';
import { closeObjectStore, parseRepoLocation } from '../../repo/storage/open.js';
import { type ClientOptions, clientInfo, type PasswordSource, openStore, type StoreOptions } from './open.js';

export interface InitRepositoryOptions extends StoreOptions {
  /** The password; a function is called only after the location is known to hold no repository. */
  password: PasswordSource;
  /** scrypt parameters of the key file (default: N=2^16, r=8, p=1). */
  kdf?: ScryptParams;
  /** Default zstd level of data (0: none; default 1). */
  compressionLevel?: number;
  /** Target size of pack files in bytes (default 32 MiB). */
  packSize?: number;
  client?: ClientOptions;
  /** Local cache directory; undefined: no cache. */
  cacheDir?: string;
}

export interface InitRepositoryResult {
  /** The repository id (hex). */
  id: string;
  /** Where it was made: the absolute directory, or the S3 location. */
  location: string;
}

/**
 * Creates an empty, encrypted repository at `location` (exit status 2-class `E_REPOSITORY_EXISTS` if one is
 * there). An S3 bucket is made and probed before the password is asked (the probe refuses a server without
 * create-once writes); a local directory only after it, so a mistyped prompt leaves nothing behind.
 */
export async function initRepository(options: InitRepositoryOptions): Promise<InitRepositoryResult> {
  const local = parseRepoLocation(options.location, options.cwd).kind === 'local';
  const store = await openStore(options, !local);
  try {
    if (await Repository.exists(store)) throw new RepositoryExistsError(store.location);
    const password = typeof options.password === 'string' ? options.password : await options.password();
    if (store instanceof LocalDirStore) await store.create();
    const repo = await Repository.init(store, password, {
      ...clientInfo(options.client, options.cacheDir),
      ...(options.compressionLevel === undefined ? {} : { compressionLevel: options.compressionLevel }),
      ...(options.kdf === undefined ? {} : { kdf: options.kdf }),
      ...(options.packSize === undefined ? {} : { packSize: options.packSize }),
    });
    return { id: toHex(repo.config.id), location: store instanceof LocalDirStore ? store.root : store.location };
  } finally {
    closeObjectStore(store);
  }
}
