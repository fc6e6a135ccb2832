/**
 * Fixed slots of one shared memory where the chunker puts chunks and the workers read them.
 * Slots are the backup's bounded queue: when every slot is taken, the reader waits, so memory stays at
 * `count × slotBytes` whatever the input size. Reused buffers also avoid first-touch page faults.
 *
 * The memory is a shared WebAssembly memory (gear-scan.ts) so the chunker's scan kernel can read the
 * slots in place; slot i starts at `base + i × slotBytes`.
 */
import { chunkMemory, GearScanner, SLOT_AREA_OFFSET, type WasmMemory } from './gear-scan.js';

const PAGE_BYTES = 4096;

export class SlotPool {
  readonly buffer: SharedArrayBuffer;
  /** The WebAssembly memory behind `buffer` (undefined where the scan kernel is not available). */
  readonly memory: WasmMemory | undefined;
  /** Offset of slot 0 in `buffer`. */
  readonly base = SLOT_AREA_OFFSET;
  /**
   * Free slots, oldest first: taken in turn, every slot soon holds a large chunk, so the memory a
   * backup settles at is reached early instead of creeping up as rarer stalls reach the last slots.
   */
  readonly #free: number[];
  readonly #waiters: ((slot: number) => void)[] = [];

  /** Bytes of a slot: room for a chunk of `chunkBytes` and for what sealing adds, page-aligned. */
  readonly slotBytes: number;

  /** `room`: bytes a slot holds beyond a chunk (the sealed envelope is written over its chunk). */
  constructor(
    readonly count: number,
    readonly chunkBytes: number,
    room = 0,
  ) {
    this.slotBytes = room === 0 ? chunkBytes : Math.ceil((chunkBytes + room) / PAGE_BYTES) * PAGE_BYTES;
    const { memory, buffer } = chunkMemory(count * this.slotBytes);
    this.memory = memory;
    this.buffer = buffer;
    this.#free = Array.from({ length: count }, (_, i) => i);
  }

  get available(): number {
    return this.#free.length;
  }

  /** A free slot, waiting for one when all are in use. */
  acquire(): Promise<number> {
    const slot = this.#free.shift();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** A free slot now, or undefined. */
  tryAcquire(): number | undefined {
    return this.#free.shift();
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

  #scanner: GearScanner | undefined | null = null;

  /**
   * Puts the gear table where the scan kernel reads it (before any chunker uses these slots; one
   * table per pool) and returns this thread's scanner (undefined: chunkers scan in JavaScript).
   */
  useGear(gear: Int32Array): GearScanner | undefined {
    if (this.#scanner === null) this.#scanner = GearScanner.over(this.memory);
    if (this.#scanner !== undefined && !this.#scanner.hasGear(gear)) this.#scanner.setGear(gear);
    return this.#scanner;
  }

  /** Slot `slot` from its start: `length` bytes, by default a whole chunk's worth (at most the slot). */
  view(slot: number, length = this.chunkBytes): Uint8Array {
    if (length > this.slotBytes) throw new Error('SlotPool: a view beyond its slot');
    return new Uint8Array(this.buffer, this.base + slot * this.slotBytes, length);
  }
}
