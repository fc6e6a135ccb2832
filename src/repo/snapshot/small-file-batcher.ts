/**
 * Groups the small files of a tree walk into batches for ContentWriter.saveSmallFiles, so a worker reads,
 * hashes and seals many files per round trip instead of the main thread doing it file by file.
 *
 * A batch is sent when it holds `files` files or `bytes` bytes (by their stat sizes), or on `flush`.
 * At most `inFlight` batches are being stored at once; `add` waits for room, which holds the walk back,
 * so memory is bounded by inFlight × bytes whatever the tree.
 */
import type { SmallFileResult, ContentWriter } from '../content/content-writer.js';

export interface BatcherLimits {
  files: number;
  bytes: number;
  inFlight: number;
}

interface Queued {
  path: string;
  size: number;
  resolve: (r: SmallFileResult) => void;
  reject: (err: unknown) => void;
}

export class SmallFileBatcher {
  readonly #writer: ContentWriter;
  readonly #maxBytes: number;
  readonly #limits: BatcherLimits;
  #queued: Queued[] = [];
  #queuedBytes = 0;
  readonly #inFlight = new Set<Promise<void>>();

  /** `maxBytes`: the largest file stored this way (larger ones come back `tooLarge`). */
  constructor(writer: ContentWriter, maxBytes: number, limits: BatcherLimits) {
    this.#writer = writer;
    this.#maxBytes = maxBytes;
    this.#limits = limits;
  }

  /**
   * Queues a file (absolute path, size from its stat); waits while the batches in flight are at the
   * limit. Its result comes later (wrapped: a promise resolved with a promise would wait for it).
   */
  async add(path: string, size: number): Promise<{ result: Promise<SmallFileResult> }> {
    while (this.#inFlight.size >= this.#limits.inFlight) await Promise.race(this.#inFlight);
    const result = new Promise<SmallFileResult>((resolve, reject) => {
      this.#queued.push({ path, size, resolve, reject });
    });
    this.#queuedBytes += size;
    if (this.#queued.length >= this.#limits.files || this.#queuedBytes >= this.#limits.bytes) this.flush();
    return { result };
  }

  /** Sends what is queued. */
  flush(): void {
    if (this.#queued.length === 0) return;
    const batch = this.#queued;
    this.#queued = [];
    this.#queuedBytes = 0;
    const sent = this.#writer.saveSmallFiles(batch, this.#maxBytes).then(
      (results) => batch.forEach((q, i) => q.resolve(results[i] as SmallFileResult)),
      (err: unknown) => batch.forEach((q) => q.reject(err)),
    );
    this.#inFlight.add(sent);
    void sent.then(() => this.#inFlight.delete(sent));
  }

  /** Sends what is queued and waits for every batch. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.#inFlight]);
  }
}
