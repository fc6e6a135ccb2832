/**
 * Fixed slots of one SharedArrayBuffer where the chunker puts chunks and the workers read them.
 * Slots are the backup's bounded queue: when every slot is taken, the reader waits, so memory stays at
 * `count × slotBytes` whatever the input size. Reused buffers also avoid first-touch page faults.
 */
export class SlotPool {
  readonly buffer: SharedArrayBuffer;
  readonly #free: number[];
  readonly #waiters: ((slot: number) => void)[] = [];

  constructor(
    readonly count: number,
    readonly slotBytes: number,
  ) {
    this.buffer = new SharedArrayBuffer(count * slotBytes);
    this.#free = Array.from({ length: count }, (_, i) => count - 1 - i);
  }

  get available(): number {
    return this.#free.length;
  }

  /** A free slot, waiting for one when all are in use. */
  acquire(): Promise<number> {
    const slot = this.#free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** A free slot now, or undefined. */
  tryAcquire(): number | undefined {
    return this.#free.pop();
  }

  /** Called after a slot goes back to the free list (not when it is handed straight to a waiter). */
  onFree: (() => void) | undefined;

  release(slot: number): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(slot);
    else {
      this.#free.push(slot);
      this.onFree?.();
    }
  }

  view(slot: number, length = this.slotBytes): Uint8Array {
    return new Uint8Array(this.buffer, slot * this.slotBytes, length);
  }
}
