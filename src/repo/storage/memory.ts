/** An in-memory ObjectStore for tests: the same contract as the real backends, nothing on disk. */
import {
  type ByteRange,
  checkObjectName,
  checkRange,
  ObjectExistsError,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
} from './object-store.js';

export class MemoryStore implements ObjectStore {
  readonly location = 'memory';
  readonly #objects = new Map<string, { bytes: Uint8Array; mtimeMs: number }>();

  constructor(readonly now: () => number = Date.now) {}

  async put(name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    checkObjectName(name);
    if (this.#objects.has(name)) throw new ObjectExistsError(name);
    const parts = data instanceof Uint8Array ? [data] : data;
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    this.#objects.set(name, { bytes, mtimeMs: this.now() });
  }

  async get(name: string, range?: ByteRange): Promise<Uint8Array> {
    checkObjectName(name);
    const object = this.#objects.get(name);
    if (object === undefined) throw new ObjectNotFoundError(name);
    checkRange(name, range, object.bytes.length);
    const start = range?.offset ?? 0;
    return object.bytes.slice(start, start + (range?.length ?? object.bytes.length));
  }

  async stat(name: string): Promise<ObjectInfo | undefined> {
    checkObjectName(name);
    const object = this.#objects.get(name);
    return object === undefined ? undefined : { name, size: object.bytes.length, mtimeMs: object.mtimeMs };
  }

  async *list(prefix: string): AsyncGenerator<ObjectInfo> {
    for (const [name, object] of [...this.#objects]) {
      if (name.startsWith(prefix)) yield { name, size: object.bytes.length, mtimeMs: object.mtimeMs };
    }
  }

  async delete(name: string): Promise<void> {
    checkObjectName(name);
    this.#objects.delete(name);
  }

  /** Test hook: the stored bytes themselves (changes are visible to later reads). */
  raw(name: string): Uint8Array | undefined {
    return this.#objects.get(name)?.bytes;
  }
}
