/**
 * Opening a repository as a library call: from a location and a password to an unlocked Repository, an
 * optional lock, and one `close()` that releases both. Every repository job starts here (the CLI too).
 */
import { hostname, userInfo } from 'node:os';
import { type LockInfo, RepoLock } from '../../repo/lock.js';
import { type ClientInfo, Repository } from '../../repo/repository.js';
import type { ObjectStore } from '../../repo/storage/object-store.js';
import { closeObjectStore, openObjectStore } from '../../repo/storage/open.js';
import type { S3StoreOptions } from '../../repo/storage/s3.js';

/** A password, or a function that asks for it (called only once the repository is known to exist). */
export type PasswordSource = string | (() => Promise<string>);

/** Which lock a job holds while it works: none (read-only jobs), shared (backups, check, forget), exclusive (prune). */
export type LockMode = 'none' | 'shared' | 'exclusive';

/** Who is working on the repository: recorded in locks and snapshots. */
export interface ClientOptions {
  /** Host name (default: this machine's). */
  host?: string;
  /** User name (default: the current user's). */
  user?: string;
  /** The clock (default: the system's). */
  now?: () => Date;
}

export interface StoreOptions {
  /** Local directory, or `s3:[http(s)://endpoint/]bucket[/prefix]`. A relative path is taken from `cwd`. */
  location: string;
  /** Directory relative local locations are resolved against (default: the process's). */
  cwd?: string;
  /** S3 client settings (credentials come from the AWS SDK's usual chain). */
  s3?: S3StoreOptions;
}

export interface OpenRepositoryOptions extends StoreOptions {
  password: PasswordSource;
  /** Local cache directory for index and snapshot objects; undefined: no cache. */
  cacheDir?: string;
  /** Lock taken after the password is checked (default 'none'). */
  lock?: LockMode;
  /** What the lock says the holder is doing (default: 'library'). */
  purpose?: string;
  /** With a lock: keep trying this long (ms) while another holder has it (default 0: fail at once, exit status 11). */
  retryLockMs?: number;
  client?: ClientOptions;
  /** An already open store to use instead of opening `location` (it is not closed by `close()`). */
  store?: ObjectStore;
  /** Lock waits and stale locks ignored. */
  onWarning?: (message: string) => void;
}

/** An open repository; `close()` releases the lock and the store's connections. */
export interface OpenedRepository {
  repo: Repository;
  lock: RepoLock | undefined;
  close(): Promise<void>;
}

/** The user name the OS reports, or '' where it has none (a container without a passwd entry). */
function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

/** Host, user, clock and cache of the client, defaults filled in. */
export function clientInfo(client: ClientOptions = {}, cacheDir?: string): ClientInfo {
  return {
    host: client.host ?? hostname(),
    user: client.user ?? currentUser(),
    now: client.now ?? (() => new Date()),
    ...(cacheDir === undefined ? {} : { cacheDir }),
  };
}

/** Opens the store at a location (with `create`, makes the directory or bucket a new repository needs). */
export function openStore(options: StoreOptions, create = false): Promise<ObjectStore> {
  return openObjectStore(options.location, { ...(options.s3 === undefined ? {} : { s3: options.s3 }), ...(options.cwd === undefined ? {} : { cwd: options.cwd }) }, create);
}

/** Takes a lock on an open repository, reporting waits and ignored stale locks through `onWarning`. */
export function lockRepository(
  repo: Repository,
  options: { exclusive: boolean; purpose: string; retryMs?: number; onWarning?: ((message: string) => void) | undefined },
): Promise<RepoLock> {
  const warn = options.onWarning;
  return RepoLock.acquire(repo, {
    exclusive: options.exclusive,
    purpose: options.purpose,
    retryMs: options.retryMs ?? 0,
    ...(warn === undefined
      ? {}
      : {
          onWait: (holder: LockInfo) => warn(`repository is locked by ${holder.purpose} (pid ${holder.pid} on ${holder.host}); waiting`),
          onStale: (other: LockInfo) => warn(`ignoring a stale lock of ${other.purpose} (pid ${other.pid} on ${other.host}, ${other.time})`),
        }),
  });
}

/**
 * Opens a repository, unlocks it with the password and takes the lock asked for.
 * Fails with exit status 10 when there is no repository (before the password is asked), 12 for a wrong
 * password, 11 when locked.
 */
export async function openRepository(options: OpenRepositoryOptions): Promise<OpenedRepository> {
  const store = options.store ?? (await openStore(options));
  const ownStore = options.store === undefined;
  const client = clientInfo(options.client, options.cacheDir);
  let repo: Repository;
  try {
    if (!(await Repository.exists(store))) {
      // Same error Repository.open gives, before asking for a password that cannot be checked.
      await Repository.open(store, '', client);
    }
    const password = typeof options.password === 'string' ? options.password : await options.password();
    repo = await Repository.open(store, password, client);
  } catch (err) {
    if (ownStore) closeObjectStore(store);
    throw err;
  }
  let held: RepoLock | undefined;
  const mode = options.lock ?? 'none';
  if (mode !== 'none') {
    try {
      held = await lockRepository(repo, {
        exclusive: mode === 'exclusive',
        purpose: options.purpose ?? 'library',
        ...(options.retryLockMs === undefined ? {} : { retryMs: options.retryLockMs }),
        onWarning: options.onWarning,
      });
    } catch (err) {
      if (ownStore) closeObjectStore(store);
      throw err;
    }
  }
  return {
    repo,
    lock: held,
    close: async () => {
      try {
        await held?.release();
      } finally {
        if (ownStore) closeObjectStore(store);
      }
    },
  };
}
