/**
 * The local-directory backend: one file per object, `a/b/c` stored as `<root>/a/b/c`.
 *
 * A put writes a partial file (`files/partial-file.ts`) under `<root>/tmp/`, fsyncs it, then hard-links it to its final name
 * (link(2) fails if the name exists, which gives write-once semantics atomically), removes the
 * temporary name and fsyncs the directory. Where hard links are not supported it falls back to
 * rename(2) after an existence check. A killed writer leaves at most a file in `tmp/`, never a partial
 * object; `removeStaleTemporaries` clears those.
 */
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { PartialFile, writeFileAtomic, writeParts } from '../../files/partial-file.js';
import { dirname, join } from 'node:path';
import {
  type ByteRange,
  checkObjectName,
  checkRange,
  ObjectExistsError,
  type ObjectDraft,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
} from './object-store.js';

export interface LocalStoreOptions {
  /** fsync files and directories on put (default true; only benchmarks of the CPU path turn it off). */
  durable?: boolean;
}

const TMP = 'tmp';

export class LocalDirStore implements ObjectStore {
  readonly location: string;
  readonly #root: string;
  readonly #durable: boolean;
  readonly #madeDirs = new Set<string>();

  constructor(root: string, options: LocalStoreOptions = {}) {
    this.#root = root;
    this.location = `local directory ${root}`;
    this.#durable = options.durable ?? true;
  }

  get root(): string {
    return this.#root;
  }

  /** Creates the root (and its tmp/) for a new repository. */
  async create(): Promise<void> {
    await mkdir(join(this.#root, TMP), { recursive: true });
  }

  async put(name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    checkObjectName(name);
    const final = join(this.#root, name);
    const dir = join(this.#root, TMP);
    await this.#ensureDir(dir);
    await writeFileAtomic(final, data, { dir, sync: this.#durable, publish: (partial) => this.#publish(partial, final, name) });
    if (this.#durable) await syncDir(dirname(final));
  }

  async draft(): Promise<ObjectDraft> {
    const dir = join(this.#root, TMP);
    await this.#ensureDir(dir);
    const file = await PartialFile.create(join(dir, 'draft'), { dir, sync: this.#durable });
    let position = 0;
    return {
      write: async (parts) => {
        position = await writeParts(file.handle, parts, position);
      },
      commit: async (name) => {
        try {
          checkObjectName(name);
        } catch (err) {
          await file.abort();
          throw err;
        }
        const final = join(this.#root, name);
        await file.commit(final, { publish: (partial) => this.#publish(partial, final, name) });
        if (this.#durable) await syncDir(dirname(final));
      },
      abort: () => file.abort(),
    };
  }

  /** Links the partial file to its name (which fails if the name exists), then removes the partial name. */
  async #publish(partial: string, final: string, name: string): Promise<void> {
    await this.#ensureDir(dirname(final));
    try {
      await link(partial, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new ObjectExistsError(name);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
      if ((await lstat(final).catch(() => undefined)) !== undefined) throw new ObjectExistsError(name);
      await rename(partial, final);
      return;
    }
    await unlink(partial).catch(() => undefined);
  }

  async get(name: string, range?: ByteRange): Promise<Uint8Array> {
    checkObjectName(name);
    let fh;
    try {
      fh = await open(join(this.#root, name), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(name, { cause: err });
      throw err;
    }
    try {
      const size = (await fh.stat()).size;
      checkRange(name, range, size);
      const offset = range?.offset ?? 0;
      const length = range?.length ?? size;
      const out = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) checkRange(name, { offset, length }, offset + done);
        done += bytesRead;
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  async stat(name: string): Promise<ObjectInfo | undefined> {
    checkObjectName(name);
    try {
      const st = await stat(join(this.#root, name));
      return st.isFile() ? { name, size: st.size, mtimeMs: st.mtimeMs } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async *list(prefix: string): AsyncGenerator<ObjectInfo> {
    // Walk the deepest directory that the prefix names completely, then filter by the prefix.
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    yield* this.#walk(base, prefix);
  }

  async *#walk(rel: string, prefix: string): AsyncGenerator<ObjectInfo> {
    let entries;
    try {
      entries = await readdir(rel === '' ? this.#root : join(this.#root, rel), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      const name = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (name === TMP) continue;
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${name}/`) || name.startsWith(prefix)) yield* this.#walk(name, prefix);
      } else if (entry.isFile() && name.startsWith(prefix)) {
        const st = await stat(join(this.#root, name)).catch(() => undefined);
        if (st !== undefined) yield { name, size: st.size, mtimeMs: st.mtimeMs };
      }
    }
  }

  async delete(name: string): Promise<void> {
    checkObjectName(name);
    try {
      await unlink(join(this.#root, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Removes temporary files older than `maxAgeMs` left by killed writers; returns how many. */
  async removeStaleTemporaries(nowMs: number, maxAgeMs: number): Promise<number> {
    let removed = 0;
    const dir = join(this.#root, TMP);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const st = await lstat(join(dir, name)).catch(() => undefined);
      if (st !== undefined && st.isFile() && nowMs - st.mtimeMs > maxAgeMs) {
        await unlink(join(dir, name)).catch(() => undefined);
        removed += 1;
      }
    }
    return removed;
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.#madeDirs.add(dir);
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
