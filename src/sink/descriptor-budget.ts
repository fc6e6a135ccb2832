/**
 * Bounds the file descriptors a sink keeps open. A stream may keep any number of files open at once (an
 * xbstream with the P chunks of 20,000 files before their E chunks is legal), more than the process may
 * open (`ulimit -n`). Past the limit the least recently used idle file closes its descriptor, and opens
 * it again when it is next written.
 */

export interface Suspendable {
  /** True while an operation is using (or opening) the descriptor: such a file is never closed. */
  readonly busy: boolean;
  /** Closes the descriptor until the next use; calls `closed` synchronously before closing. */
  suspend(): Promise<void>;
}

/**
 * Enough for mariabackup's `--parallel` interleaving and for the operations a sink keeps in flight,
 * and well under the usual soft limit of 1024 descriptors.
 */
export const DEFAULT_MAX_OPEN_FILES = 256;

export class DescriptorBudget {
  /** Files holding a descriptor, least recently used first (a Set keeps insertion order). */
  readonly #lru = new Set<Suspendable>();
  /** Descriptors open or being opened. */
  #count = 0;

  constructor(readonly limit: number = DEFAULT_MAX_OPEN_FILES) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`descriptor limit must be a positive integer, not ${limit}`);
  }

  get open(): number {
    return this.#count;
  }

  /**
   * Call before opening a descriptor; then `opened` or `failed`. Closes idle files beyond the limit first;
   * when every open file is busy the limit is exceeded rather than waited for (the busy files are few:
   * a sink bounds its operations in flight).
   */
  async reserve(): Promise<void> {
    this.#count += 1;
    const closing: Promise<void>[] = [];
    for (const file of this.#lru) {
      if (this.#count <= this.limit) break;
      if (file.busy) continue;
      closing.push(file.suspend());
    }
    await Promise.all(closing);
  }

  opened(file: Suspendable): void {
    this.#lru.add(file);
  }

  failed(): void {
    this.#count -= 1;
  }

  /** Marks the file most recently used. */
  used(file: Suspendable): void {
    if (this.#lru.delete(file)) this.#lru.add(file);
  }

  /** The file gave its descriptor up (suspended, committed or aborted). */
  closed(file: Suspendable): void {
    if (this.#lru.delete(file)) this.#count -= 1;
  }
}
