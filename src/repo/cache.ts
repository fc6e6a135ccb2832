/**
 * The local cache of a client: copies of immutable repository objects (index and snapshot objects, tree
 * blobs), so a second backup or a listing reads almost nothing from the repository.
 *
 * Everything cached is still sealed, and checked when used: index and snapshot objects are named by the
 * BLAKE3 of their bytes (checked on read), tree blobs are authenticated when opened. A cached copy that
 * fails its check is dropped and fetched again. The cache lives on the client's filesystem (never in the
 * repository), under `<dir>/<repository id>/`.
 */
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../files/partial-file.js';

const NAME = /^(index|snapshots|trees)\/[0-9a-f]{64}$/;

export class RepoCache {
  readonly #dir: string | undefined;
  #hits = 0;
  #misses = 0;

  /** `dir` undefined: a disabled cache that stores nothing. */
  constructor(dir: string | undefined, repoId: string) {
    this.#dir = dir === undefined ? undefined : join(dir, repoId);
  }

  get enabled(): boolean {
    return this.#dir !== undefined;
  }

  get hits(): number {
    return this.#hits;
  }

  get misses(): number {
    return this.#misses;
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    if (this.#dir === undefined || !NAME.test(name)) return undefined;
    try {
      const bytes = await readFile(join(this.#dir, name));
      this.#hits += 1;
      return bytes;
    } catch {
      this.#misses += 1;
      return undefined;
    }
  }

  async put(name: string, bytes: Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (this.#dir === undefined || !NAME.test(name)) return;
    const path = join(this.#dir, name);
    try {
      await mkdir(dirname(path), { recursive: true });
      // not synced: a cache entry lost in a crash is fetched again
      await writeFileAtomic(path, bytes, { sync: false, mode: 0o666 });
    } catch {
      // A cache that cannot be written only costs speed.
    }
  }

  async drop(name: string): Promise<void> {
    if (this.#dir === undefined || !NAME.test(name)) return;
    await unlink(join(this.#dir, name)).catch(() => undefined);
  }

  /** Removes cached objects under `prefix` (`index/`, `snapshots/`) that are no longer in the repository. */
  async retainOnly(prefix: 'index/' | 'snapshots/', existing: ReadonlySet<string>): Promise<void> {
    if (this.#dir === undefined) return;
    const names = await readdir(join(this.#dir, prefix)).catch(() => [] as string[]);
    for (const name of names) {
      if (!existing.has(`${prefix}${name}`)) await unlink(join(this.#dir, prefix, name)).catch(() => undefined);
    }
  }
}
