/**
 * Cuts a byte stream into chunks inside the slots of a SlotPool, scanning each byte where it landed (so
 * the WebAssembly scan of gear-scan.ts can read it). Used by the stdin reader thread (which reads
 * straight into the slots) and by the main thread (which copies pieces of an async iterable in).
 *
 * The caller appends at most STEP bytes at a time after the scanned part of the current chunk; `cut`
 * scans them. When a chunk ends before the appended bytes do, the rest (at most STEP bytes) is set
 * aside and becomes the start of the next slot, so a finished chunk can be handed over (and its slot
 * released and reused) before the next slot is known.
 */
import type { Chunker } from './chunker.js';

export interface ChunkRef {
  slot: number;
  length: number;
}

/** Most bytes appended at once (a read, or a copy): also the most ever carried to the next slot. */
export const STEP_BYTES = 256 * 1024;

export class SlotCutter {
  readonly #chunker: Chunker;
  readonly #slotView: (slot: number) => Uint8Array;
  readonly #carry = new Uint8Array(STEP_BYTES);
  #carryLength = 0;
  #slot = -1;
  #view: Uint8Array = new Uint8Array(0);
  /** Bytes of the current chunk at the start of the slot (scanned), and unscanned bytes after them. */
  #fill = 0;
  #pending = 0;
  /** Stream bytes appended so far, and the stream offset where the last finished chunk ended. */
  #appended = 0;
  #cutAt = 0;

  constructor(chunker: Chunker, slotView: (slot: number) => Uint8Array) {
    this.#chunker = chunker;
    this.#slotView = slotView;
  }

  get hasSlot(): boolean {
    return this.#slot >= 0;
  }

  /** Bytes set aside after the last cut, waiting for the next slot. */
  get hasCarry(): boolean {
    return this.#carryLength > 0;
  }

  /** Stream offset just past the last finished chunk. */
  get cutAt(): number {
    return this.#cutAt;
  }

  /** Starts the next chunk in `slot` (with the bytes carried over from the last cut). */
  setSlot(slot: number): void {
    if (this.#slot >= 0) throw new Error('SlotCutter: a slot is already in use');
    this.#slot = slot;
    this.#view = this.#slotView(slot);
    this.#fill = 0;
    this.#pending = this.#carryLength;
    if (this.#carryLength > 0) this.#view.set(this.#carry.subarray(0, this.#carryLength), 0);
    this.#carryLength = 0;
  }

  /**
   * Where the next bytes go: `view[at, at + max)` of the current slot. Call only after `cut` returned
   * undefined (everything appended is scanned); `max` is then positive.
   */
  target(): { view: Uint8Array; at: number; max: number } {
    if (this.#slot < 0 || this.#pending !== 0) throw new Error('SlotCutter: no room before a cut');
    return { view: this.#view, at: this.#fill, max: Math.min(STEP_BYTES, this.#view.length - this.#fill) };
  }

  /** `n` bytes were written at the target. */
  appended(n: number): void {
    this.#pending += n;
    this.#appended += n;
  }

  /** Copies `bytes` (at most `target().max`) to the target. */
  append(bytes: Uint8Array): void {
    const t = this.target();
    if (bytes.length > t.max) throw new Error('SlotCutter: more bytes than the target holds');
    t.view.set(bytes, t.at);
    this.appended(bytes.length);
  }

  /** Scans what was appended; returns the chunk when one ends there (its slot is then handed over). */
  cut(): ChunkRef | undefined {
    if (this.#pending === 0) return undefined;
    const end = this.#chunker.next(this.#view.subarray(0, this.#fill + this.#pending), this.#fill);
    this.#pending -= end - this.#fill;
    this.#fill = end;
    if (!this.#chunker.cut) return undefined;
    if (this.#pending > 0) this.#carry.set(this.#view.subarray(this.#fill, this.#fill + this.#pending), 0);
    this.#carryLength = this.#pending;
    return this.#handOver();
  }

  /**
   * At the end of the input (after `cut` returned undefined): the last chunk, if the slot holds one;
   * an empty slot is returned as `unused`.
   */
  finish(): { chunk?: ChunkRef; unused?: number } {
    if (this.#slot < 0) return {};
    if (this.#pending !== 0) throw new Error('SlotCutter: finish before the appended bytes were scanned');
    if (this.#fill > 0) return { chunk: this.#handOver() };
    const unused = this.#slot;
    this.#slot = -1;
    return { unused };
  }

  /** Gives up the current slot (for cleanup after a failure). */
  takeSlot(): number | undefined {
    const slot = this.#slot;
    this.#slot = -1;
    return slot < 0 ? undefined : slot;
  }

  #handOver(): ChunkRef {
    const chunk = { slot: this.#slot, length: this.#fill };
    this.#cutAt = this.#appended - this.#carryLength;
    this.#slot = -1;
    this.#fill = 0;
    this.#pending = 0;
    return chunk;
  }
}
