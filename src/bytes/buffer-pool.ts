/**
 * Recycles large read buffers. Touching fresh memory costs more than reading the data from the page
 * cache, so a stream that allocates a new 10 MiB block per read spends most of its time in page faults
 * (decision log in docs/architecture.md).
 *
 * Contract: a source takes a block with `take()`, fills it, and calls `lend(view)` with the exact view
 * it yields; a stage that yields a chunk must not touch it afterwards. The final sink calls `give(chunk)`
 * once a chunk's bytes are written. Only a chunk covering exactly the lent range returns its block to
 * the pool (so pieces cut from a block by a later stage never recycle it early); anything else is
 * ignored and left to the garbage collector.
 */
interface Lending {
  views: { offset: number; length: number }[];
  block: Buffer;
  /** Lent by parts (`lendPart`) and not sealed yet: more views may be cut from it. */
  open?: boolean;
}

export class BufferPool {
  readonly #free: Buffer[] = [];
  /** Views lent out of each block; the block comes back when the last of them is given back. */
  readonly #lent = new WeakMap<ArrayBufferLike, Lending>();

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
    this.lendViews(block, [view]);
  }

  /**
   * Records several views of one taken block (say, small files read into it side by side); the block
   * returns to the pool once every one of them has been given back. No views: the block goes back now.
   */
  lendViews(block: Buffer, views: Uint8Array[]): void {
    if (views.length === 0) {
      this.putBack(block);
      return;
    }
    this.#lent.set(block.buffer, { views: views.map((v) => ({ offset: v.byteOffset, length: v.byteLength })), block });
  }

  /**
   * Records one more view of a block that is still being filled, piece by piece (a demultiplexer copying
   * what it reads into it). The block comes back only after `seal` and once every view is given back.
   */
  lendPart(block: Buffer, view: Uint8Array): void {
    let lent = this.#lent.get(block.buffer);
    if (lent === undefined) {
      lent = { views: [], block, open: true };
      this.#lent.set(block.buffer, lent);
    }
    lent.views.push({ offset: view.byteOffset, length: view.byteLength });
  }

  /** No more views will be cut from a block lent by parts: it comes back once the last is given back (now if none is out). */
  seal(block: Buffer): void {
    const lent = this.#lent.get(block.buffer);
    if (lent === undefined) {
      this.putBack(block);
      return;
    }
    lent.open = false;
    if (lent.views.length > 0) return;
    this.#lent.delete(block.buffer);
    this.putBack(block);
  }

  /**
   * What identifies this lending of `view` (a value of its own each time its block is lent), or undefined
   * when `view` is not lent now: the bytes behind a view may have changed only if that value did.
   */
  lending(view: Uint8Array): object | undefined {
    const lent = this.#lent.get(view.buffer);
    return lent?.views.some((v) => v.offset === view.byteOffset && v.length === view.byteLength) === true ? lent : undefined;
  }

  /** Puts back a block that was taken but not lent (for example after a failed read). */
  putBack(block: Buffer): void {
    if (this.#free.length < this.maxFree) this.#free.push(block);
  }

  /** Offers a written chunk back; its block is reused once every view lent from it is back. */
  give(chunk: Uint8Array): void {
    const lent = this.#lent.get(chunk.buffer);
    if (lent === undefined) return;
    const at = lent.views.findIndex((v) => v.offset === chunk.byteOffset && v.length === chunk.byteLength);
    if (at < 0) return;
    lent.views.splice(at, 1);
    if (lent.views.length > 0 || lent.open === true) return;
    this.#lent.delete(chunk.buffer);
    this.putBack(lent.block);
  }
}
