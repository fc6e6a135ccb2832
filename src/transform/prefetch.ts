/**
 * Starts the (transformed) content of the next few files before the container asks for them.
 *
 * A container writer takes files one at a time (or `--parallel` at a time). With compression or
 * encryption each file's content comes from the worker pool, so a tree of small files would pay one
 * worker round trip per file in sequence and leave the other workers idle. This stage pulls up to
 * `files` entries ahead and drains their content into memory, at most `bytes` in all, so the workers
 * stay busy; entries still come out in their original order, each with its content replayed from what
 * was drained and then read on from where the drain stopped. Once an entry has been handed out, its
 * content is read only as its consumer reads it (backpressure as usual).
 *
 * Memory: at most `bytes` of drained content, plus one chunk per file being drained.
 */
import type { Entry, FileEntry } from '../entry.js';

export interface PrefetchOptions {
  /** Entries pulled ahead of the consumer (default 16). */
  files?: number;
  /**
   * Content drained ahead, in all (default 8 MiB: two 4 MiB output blocks). On the 1.3 GB datadir (lz4,
   * 2 threads) 16 MiB peaked at 207-209 MiB RSS, 8 MiB at 196-198, in the same CPU time.
   */
  bytes?: number;
  /**
   * Files drained at once (default 1). A file being drained holds its codec window and read-ahead
   * whether or not the byte budget lets it go on, so this, not `bytes`, bounds the memory of a tree of
   * large files; a small file's drain ends at its first chunk and frees its turn at once. On a 1.3 GB
   * datadir (lz4, 2 threads) 2 drains and 32 MiB peaked at 250-270 MiB RSS, 1 and 16 MiB at 205-210;
   * a tree of 1,500 small files took the same CPU time either way (the file being written keeps the
   * workers busy while the next one drains).
   */
  draining?: number;
}

interface Ahead {
  entry: Entry;
  file?: DrainedFile;
}

class Budget {
  used = 0;
  #draining = 0;
  readonly #waiting: (() => void)[] = [];
  constructor(
    readonly limit: number,
    readonly maxDraining: number,
  ) {}

  /** Waits for a drain turn; false when `stop()` says the caller no longer needs one. */
  async startDrain(stop: () => boolean): Promise<boolean> {
    while (this.#draining >= this.maxDraining) {
      if (stop()) return false;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#draining += 1;
    return true;
  }

  endDrain(): void {
    this.#draining -= 1;
    this.wakeAll();
  }

  /** Waits until the budget has room, or until `stop()` says the caller no longer needs it. */
  async room(stop: () => boolean): Promise<void> {
    while (this.used >= this.limit && !stop()) await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(n: number): void {
    this.used -= n;
    for (const wake of this.#waiting.splice(0)) wake();
  }

  /** Wakes everyone (used when a drain must stop waiting, for example when its file is handed out). */
  wakeAll(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }
}

/** One file's content: drained into `chunks` while it waits its turn, then read on directly. */
class DrainedFile {
  readonly #it: AsyncIterator<Uint8Array>;
  /** Drained chunks, each with the bytes it counts against the budget (0 once the file is handed out). */
  readonly #chunks: { bytes: Uint8Array; counted: number }[] = [];
  #pending: Promise<IteratorResult<Uint8Array>> | undefined;
  #done = false;
  #failure: { error: unknown } | undefined;
  #handedOut = false;
  #draining: Promise<void>;

  constructor(
    content: AsyncIterable<Uint8Array>,
    readonly budget: Budget,
  ) {
    this.#it = content[Symbol.asyncIterator]();
    this.#draining = this.#drain();
  }

  async #drain(): Promise<void> {
    if (!(await this.budget.startDrain(() => this.#handedOut))) return;
    try {
      while (!this.#handedOut && !this.#done) {
        await this.budget.room(() => this.#handedOut);
        if (this.#handedOut) return;
        this.#pending = this.#it.next();
        const next = await this.#pending;
        this.#pending = undefined;
        if (next.done === true) {
          this.#done = true;
          return;
        }
        const counted = this.#handedOut ? 0 : next.value.length;
        this.#chunks.push({ bytes: next.value, counted });
        this.budget.used += counted;
      }
    } catch (err) {
      this.#pending = undefined;
      this.#failure = { error: err };
    } finally {
      this.budget.endDrain();
    }
  }

  /** The content for the consumer: what was drained, then the rest as it asks. */
  async *content(): AsyncGenerator<Uint8Array> {
    this.#handedOut = true;
    this.budget.wakeAll();
    await this.#draining;
    try {
      for (let chunk = this.#chunks.shift(); chunk !== undefined; chunk = this.#chunks.shift()) {
        this.budget.release(chunk.counted);
        yield chunk.bytes;
      }
      if (this.#failure !== undefined) throw this.#failure.error;
      while (!this.#done) {
        const next = await this.#it.next();
        if (next.done === true) break;
        yield next.value;
      }
    } finally {
      this.#releaseAll();
      if (!this.#done) await this.#it.return?.();
    }
  }

  /** Abandons the file (the consumer stopped before reaching it). */
  async discard(): Promise<void> {
    this.#handedOut = true;
    this.budget.wakeAll();
    await this.#draining;
    this.#releaseAll();
    if (!this.#done) await this.#it.return?.();
  }

  #releaseAll(): void {
    for (const chunk of this.#chunks.splice(0)) this.budget.release(chunk.counted);
  }
}

export async function* prefetchFiles(entries: AsyncIterable<Entry>, options: PrefetchOptions = {}): AsyncGenerator<Entry> {
  const files = Math.max(1, options.files ?? 16);
  const budget = new Budget(options.bytes ?? 8 << 20, Math.max(1, options.draining ?? 1));
  const it = entries[Symbol.asyncIterator]();
  const ahead: Ahead[] = [];
  let ended = false;
  const fill = async (): Promise<void> => {
    while (!ended && ahead.length < files) {
      const next = await it.next();
      if (next.done === true) {
        ended = true;
        break;
      }
      const entry = next.value;
      ahead.push(entry.kind === 'file' ? { entry, file: new DrainedFile(entry.content, budget) } : { entry });
    }
  };
  try {
    for (;;) {
      await fill();
      const head = ahead.shift();
      if (head === undefined) return;
      if (head.file === undefined) yield head.entry;
      else yield { ...(head.entry as FileEntry), content: head.file.content() };
    }
  } finally {
    for (const left of ahead.splice(0)) await left.file?.discard();
    if (!ended) await it.return?.();
  }
}
