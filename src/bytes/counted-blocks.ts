/**
 * Input blocks recycled by reference count, for a reader whose consumer keeps views of the input (the
 * xbstream extractor writes payload views straight to files, several writes in flight).
 *
 * The source owns one reference to the block it is filling. A consumer that keeps a view past the moment
 * it asks for more input calls `retain(view)`, and `release(view)` when done; a block returns to the free
 * list when its last reference is released. Views of memory that is not a counted block are ignored, so a
 * consumer can retain and release whatever it is given.
 */
export class CountedBlocks {
  readonly #free: Buffer[] = [];
  readonly #counts = new Map<ArrayBufferLike, { block: Buffer; count: number }>();

  constructor(
    readonly blockBytes: number,
    /** Free blocks kept for reuse; more are left to the garbage collector. */
    readonly maxFree = 64,
  ) {}

  /** A block with one reference, the caller's. */
  take(): Buffer {
    const block = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.blockBytes);
    this.#counts.set(block.buffer, { block, count: 1 });
    return block;
  }

  retain(view: Uint8Array): void {
    const entry = this.#counts.get(view.buffer);
    if (entry !== undefined) entry.count += 1;
  }

  release(view: Uint8Array): void {
    const entry = this.#counts.get(view.buffer);
    if (entry === undefined) return;
    entry.count -= 1;
    if (entry.count > 0) return;
    this.#counts.delete(view.buffer);
    if (this.#free.length < this.maxFree) this.#free.push(entry.block);
  }

  /** Blocks referenced now (for tests and leak checks). */
  get inUse(): number {
    return this.#counts.size;
  }
}
