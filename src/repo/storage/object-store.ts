/**
 * The storage contract every repository backend meets: a flat namespace of immutable objects.
 *
 * Guarantees a backend must give (the conformance suite in test/repo checks them):
 * - `put` is atomic: after it resolves the whole object is readable under its name; a put that fails or is
 *   interrupted leaves no object under that name (a partial object is never visible).
 * - Objects are written once. `put` on a name that already exists fails with `ObjectExistsError` and leaves
 *   the old object as it was (S3: `If-None-Match: *`; a local directory: link(2) of a finished temp file).
 * - Read-after-write: an object is readable and listed as soon as its `put` resolved.
 * - `get` with a range returns exactly that range; a range beyond the end is an error, never a short read.
 * - `list(prefix)` yields every object whose name starts with `prefix`, in no particular order.
 * - `delete` of a missing object is not an error (another prune may have removed it).
 *
 * Names are `/`-separated ASCII (`[A-Za-z0-9._-]` segments); nothing above this interface may assume a
 * filesystem: there is no rename, no append, no in-place update.
 */
import { SluiceError } from '../../errors.js';

export interface ObjectInfo {
  name: string;
  size: number;
  /** Last modification time in ms since the epoch, when the backend knows it. */
  mtimeMs?: number;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface ObjectStore {
  /** A short description for messages ("local directory /backups/repo"). */
  readonly location: string;
  /** Set by stores whose requests cross a network: more requests in flight pay off there. */
  readonly remote?: boolean;
  put(name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void>;
  get(name: string, range?: ByteRange): Promise<Uint8Array>;
  /** Size and time of one object, or undefined when it does not exist. */
  stat(name: string): Promise<ObjectInfo | undefined>;
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(name: string): Promise<void>;
  /** Deletes many objects in few requests (S3 DeleteObjects); missing ones are not an error. Optional. */
  deleteMany?(names: readonly string[]): Promise<void>;
  /**
   * Optional: an object written piece by piece and named only when complete (a pack is named by the
   * hash of its bytes), so a writer need not hold it in memory. `commit` has the guarantees of `put`.
   */
  draft?(): Promise<ObjectDraft>;
  /** Optional: releases what the store holds open (connections), so the process can exit at once. */
  destroy?(): void;
}

export interface ObjectDraft {
  /** Appends the parts (calls must not overlap). */
  write(parts: readonly Uint8Array[]): Promise<void>;
  /** Publishes everything written as `name`; the draft is gone afterwards, whatever the outcome. */
  commit(name: string): Promise<void>;
  /** Drops what was written. Never throws. */
  abort(): Promise<void>;
}

/** Deletes `names` in batches where the store can, else one by one. */
export async function deleteObjects(store: ObjectStore, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  if (store.deleteMany !== undefined) return store.deleteMany(names);
  for (const name of names) await store.delete(name);
}

export class ObjectNotFoundError extends SluiceError {
  constructor(name: string, options?: ErrorOptions) {
    super('E_OBJECT_MISSING', 'object not found in the repository', { object: name }, options);
  }
}

export class ObjectExistsError extends SluiceError {
  constructor(name: string) {
    super('E_OBJECT_EXISTS', 'object already exists (objects are written once)', { object: name });
  }
}

export class ObjectRangeError extends SluiceError {
  constructor(name: string, range: ByteRange, size: number) {
    super(
      'E_OBJECT_RANGE',
      `read of ${range.length} bytes at offset ${range.offset} is beyond the end of the object (${size} bytes)`,
      { object: name },
    );
  }
}

const NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Refuses names a backend could interpret as a path escape or a pattern. */
export function checkObjectName(name: string): void {
  if (!NAME.test(name) || name.split('/').some((part) => part === '.' || part === '..') || name.length > 1024) {
    throw new SluiceError('E_OBJECT_NAME', `invalid object name ${JSON.stringify(name)}`, { object: name });
  }
}

export function checkRange(name: string, range: ByteRange | undefined, size: number): void {
  if (range === undefined) return;
  if (
    !Number.isSafeInteger(range.offset) ||
    !Number.isSafeInteger(range.length) ||
    range.offset < 0 ||
    range.length < 0 ||
    range.offset + range.length > size
  ) {
    throw new ObjectRangeError(name, range, size);
  }
}

export function totalLength(data: Uint8Array | readonly Uint8Array[]): number {
  if (data instanceof Uint8Array) return data.length;
  let n = 0;
  for (const part of data) n += part.length;
  return n;
}
