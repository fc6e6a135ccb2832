/**
 * The in-memory blob index: blob id → (pack, offset, length, raw length, type).
 *
 * Memory grows only with the number of blobs, and little per blob: ids and fields live in typed arrays
 * (49 bytes per blob) and an open-addressing table of int32 slots kept at most half full (8–16 bytes per
 * blob), with arrays doubled as they fill. bench/repo/index-memory.ts measures it; the figure is in
 * docs/repository-format.md. A JS Map keyed by hex strings would cost several hundred bytes per blob.
 *
 * Ids are keyed hashes, uniformly distributed, so their first four bytes are the hash.
 */
import { ID_BYTES } from '../format.js';
import type { BlobType } from '../format.js';

export interface BlobLocation {
  type: BlobType;
  packId: string;
  packSize: number;
  offset: number;
  length: number;
  rawLength: number;
}

const EMPTY = -1;
const TYPE_TREE = 2;

export class BlobIndex {
  #ids = new Uint8Array(0);
  #pack = new Uint32Array(0);
  #offset = new Uint32Array(0);
  #length = new Uint32Array(0);
  #raw = new Uint32Array(0);
  #type = new Uint8Array(0);
  #count = 0;
  #table = new Int32Array(0);
  #mask = -1;

  #packIds: string[] = [];
  #packSizes: number[] = [];
  readonly #packNumbers = new Map<string, number>();

  constructor(expectedBlobs = 1024) {
    this.#grow(Math.max(16, expectedBlobs));
  }

  get size(): number {
    return this.#count;
  }

  get packCount(): number {
    return this.#packIds.length;
  }

  /** Bytes held by the typed arrays (what the per-blob figure measures). */
  get byteLength(): number {
    return (
      this.#ids.byteLength + this.#pack.byteLength + this.#offset.byteLength + this.#length.byteLength +
      this.#raw.byteLength + this.#type.byteLength + this.#table.byteLength
    );
  }

  /** Registers a pack (idempotent); returns its number. */
  addPack(packId: string, size: number): number {
    const known = this.#packNumbers.get(packId);
    if (known !== undefined) return known;
    const n = this.#packIds.length;
    this.#packIds.push(packId);
    this.#packSizes.push(size);
    this.#packNumbers.set(packId, n);
    return n;
  }

  hasPack(packId: string): boolean {
    return this.#packNumbers.has(packId);
  }

  /** Packs and their sizes, in registration order. */
  *packs(): Generator<{ id: string; size: number }> {
    for (let i = 0; i < this.#packIds.length; i++) yield { id: this.#packIds[i] as string, size: this.#packSizes[i] as number };
  }

  /** Adds a blob location; returns false (and keeps the first) when the id is already known. */
  add(type: BlobType, id: Uint8Array, pack: number, offset: number, length: number, rawLength: number): boolean {
    if (id.length !== ID_BYTES) throw new Error('blob id must be 32 bytes');
    let slot = this.#find(id);
    if (slot >= 0 && (this.#table[slot] as number) !== EMPTY) return false;
    if ((this.#count + 1) * 2 > this.#table.length || this.#count + 1 > this.#pack.length) {
      this.#grow(this.#count + 1);
      slot = this.#find(id);
    }
    const n = this.#count++;
    this.#ids.set(id, n * ID_BYTES);
    this.#pack[n] = pack;
    this.#offset[n] = offset;
    this.#length[n] = length;
    this.#raw[n] = rawLength;
    this.#type[n] = type === 'tree' ? TYPE_TREE : 1;
    this.#table[slot] = n;
    return true;
  }

  has(id: Uint8Array): boolean {
    const slot = this.#find(id);
    return slot >= 0 && (this.#table[slot] as number) !== EMPTY;
  }

  lookup(id: Uint8Array): BlobLocation | undefined {
    const slot = this.#find(id);
    if (slot < 0) return undefined;
    const n = this.#table[slot] as number;
    if (n === EMPTY) return undefined;
    const pack = this.#pack[n] as number;
    return {
      type: this.#type[n] === TYPE_TREE ? 'tree' : 'data',
      packId: this.#packIds[pack] as string,
      packSize: this.#packSizes[pack] as number,
      offset: this.#offset[n] as number,
      length: this.#length[n] as number,
      rawLength: this.#raw[n] as number,
    };
  }

  /** Every blob id (copies), with its type. */
  *entries(): Generator<{ id: Uint8Array; type: BlobType }> {
    for (let n = 0; n < this.#count; n++) {
      yield { id: this.#ids.slice(n * ID_BYTES, (n + 1) * ID_BYTES), type: this.#type[n] === TYPE_TREE ? 'tree' : 'data' };
    }
  }

  /** The table slot holding `id`, or the empty slot where it would go. */
  #find(id: Uint8Array): number {
    const mask = this.#mask;
    let slot = ((id[0] as number) | ((id[1] as number) << 8) | ((id[2] as number) << 16) | ((id[3] as number) << 24)) & mask;
    for (;;) {
      const n = this.#table[slot] as number;
      if (n === EMPTY) return slot;
      if (this.#idEquals(n, id)) return slot;
      slot = (slot + 1) & mask;
    }
  }

  #idEquals(n: number, id: Uint8Array): boolean {
    const ids = this.#ids;
    const base = n * ID_BYTES;
    for (let i = 0; i < ID_BYTES; i++) if (ids[base + i] !== id[i]) return false;
    return true;
  }

  #grow(minEntries: number): void {
    let entries = Math.max(this.#pack.length, 16);
    while (entries < minEntries) entries *= 2;
    // Called when full: minEntries is one more than the count, so this doubles.
    if (entries > this.#pack.length) {
      const ids = new Uint8Array(entries * ID_BYTES);
      ids.set(this.#ids.subarray(0, this.#count * ID_BYTES));
      this.#ids = ids;
      this.#pack = extend(this.#pack, entries);
      this.#offset = extend(this.#offset, entries);
      this.#length = extend(this.#length, entries);
      this.#raw = extend(this.#raw, entries);
      const type = new Uint8Array(entries);
      type.set(this.#type.subarray(0, this.#count));
      this.#type = type;
    }
    let slots = 16;
    while (slots < minEntries * 2) slots *= 2;
    if (slots > this.#table.length) {
      this.#table = new Int32Array(slots).fill(EMPTY);
      this.#mask = slots - 1;
      for (let n = 0; n < this.#count; n++) {
        const id = this.#ids.subarray(n * ID_BYTES, (n + 1) * ID_BYTES);
        let slot = ((id[0] as number) | ((id[1] as number) << 8) | ((id[2] as number) << 16) | ((id[3] as number) << 24)) & this.#mask;
        while ((this.#table[slot] as number) !== EMPTY) slot = (slot + 1) & this.#mask;
        this.#table[slot] = n;
      }
    }
  }
}

function extend(a: Uint32Array, entries: number): Uint32Array<ArrayBuffer> {
  const out = new Uint32Array(entries);
  out.set(a);
  return out;
}
