/**
 * Recycles large read buffers. On these machines touching fresh memory costs about 0.9 s per GiB,
 * more than reading the data from the page cache, so a stream that allocates a new 10 MiB block per
 * read spends most of its time in page faults.
 *
 * Contract: a source takes a block with `take()`, fills it, and calls `lend(view)` with the exact view
 * it yields; a stage that yields a chunk must not touch it afterwards. The final sink calls `give(chunk)`
 * once a chunk's bytes are written. Only a chunk covering exactly the lent range returns its block to
 * the pool (so pieces cut from a block by a later stage never recycle it early); anything else is
 * ignored and left to the garbage collector.
 */
export class BufferPool {
  readonly #free: Buffer[] = [];
  readonly #lent = new WeakMap<ArrayBufferLike, { offset: number; length: number; block: Buffer }>();

  constructor(
    readonly blockBytes: number,
    /** Free blocks kept for reuse; more are left to the garbage collector. */
    readonly maxFree = 16,
    /** Blocks over SharedArrayBuffers, which worker threads can fill without copying. */
    readonly shared = false,
  ) {}

  take(): Buffer {
    return this.#free.pop() ?? (this.shared ? Buffer.from(new SharedArrayBuffer(this.blockBytes)) : Buffer.allocUnsafeSlow(this.blockBytes));
  }

  /** Records the view of a taken block that is about to be yielded. */
  lend(block: Buffer, view: Uint8Array): void {
    this.#lent.set(block.buffer, { offset: view.byteOffset, length: view.byteLength, block });
  }

  /** Puts back a block that was taken but not lent (for example after a failed read). */
  putBack(block: Buffer): void {
    if (this.#free.length < this.maxFree) this.#free.push(block);
  }

  /** Offers a written chunk back; its block is reused only if the chunk is exactly the lent view. */
  give(chunk: Uint8Array): void {
    const lent = this.#lent.get(chunk.buffer);
    if (lent === undefined || lent.offset !== chunk.byteOffset || lent.length !== chunk.byteLength) return;
    this.#lent.delete(chunk.buffer);
    this.putBack(lent.block);
  }
}
