/**
 * From a repository location to a ready ObjectStore: a local directory, or `s3:[http(s)://endpoint/]bucket[/prefix]`.
 * Library callers and the CLI both come through here.
 */
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { LocalDirStore } from './local.js';
import type { ObjectStore } from './object-store.js';
import type { S3StoreOptions } from './s3.js';
import { parseS3Location, type S3Location } from './s3-location.js';

export type RepoLocation = { kind: 'local'; path: string } | ({ kind: 's3' } & S3Location);

export function parseRepoLocation(text: string, cwd = process.cwd()): RepoLocation {
  if (text === '') throw new UsageError('empty repository location');
  if (text.startsWith('s3:')) return { kind: 's3', ...parseS3Location(text) };
  if (/^[a-z][a-z0-9+.-]*:/i.test(text) && !text.startsWith('/')) {
    throw new UsageError(`repository "${text}": only local directories and s3:[http(s)://endpoint/]bucket[/prefix] are supported`);
  }
  return { kind: 'local', path: resolve(cwd, text) };
}

export interface OpenStoreOptions {
  s3?: S3StoreOptions;
  cwd?: string;
}

/**
 * Opens the store at `location`. With `create`, makes what a new repository needs (the directory, or the
 * bucket if missing). S3 stores are probed for conditional writes (see S3Store.connect).
 */
export async function openObjectStore(location: string, options: OpenStoreOptions = {}, create = false): Promise<ObjectStore> {
  const loc = parseRepoLocation(location, options.cwd);
  if (loc.kind === 'local') {
    const store = new LocalDirStore(loc.path);
    if (create) await store.create();
    return store;
  }
  // the AWS SDK takes longer to load than most commands take to run: only an S3 repository loads it
  const { S3Store } = await import('./s3.js');
  const store = new S3Store(loc, options.s3);
  try {
    await store.connect(create);
  } catch (err) {
    store.destroy();
    throw err;
  }
  return store;
}

/** Releases what a store holds open (S3 connections); a no-op for the others. */
export function closeObjectStore(store: ObjectStore): void {
  store.destroy?.();
}
