/**
 * Content-defined chunking: FastCDC's gear hash and cut-point skipping, with one mask (not FastCDC's
 * normalized chunking: see the cut rule below).
 *
 * Written here because no maintained npm package does streaming FastCDC at the speed we need (the ones
 * that exist are WASM builds that copy every input, or unmaintained). This is the hot loop of a backup:
 * no allocation per byte or per call, a 32-bit gear hash in an int32 local, the scan unrolled four ways;
 * bytes in the chunk slots' memory are scanned by the WebAssembly kernel of gear-scan.ts.
 *
 * Cut rule (part of the repository format, docs/repository-format.md): for a chunk that has `fill` bytes,
 * nothing is hashed until `fill` reaches `min`; from there `h = (h << 1) + gear[byte]` (int32), and the
 * chunk ends after the byte where the top `b` bits of `h` are zero, b = round(log2(avg - min)), so the
 * expected size is min + 2^b (1 MiB for 512 KiB / 1 MiB); a chunk also ends at `max` bytes. We measured
 * FastCDC's normalized masks (a harder mask before `avg`, an easier one after) against this on a mixed
 * database stream with 5% changed: normalization made slightly larger chunks and more new data after a
 * change (it resynchronises later), so the two masks are kept in the code but equal. The gear table is
 * 256 int32 from HKDF of the repository's chunker key, so cut points differ between repositories.
 */
import { hkdfSync } from 'node:crypto';
import { CHUNK_AVG, CHUNK_MAX, CHUNK_MIN } from '../format.js';
import type { GearScanner } from './gear-scan.js';

export interface ChunkerParams {
  min: number;
  avg: number;
  max: number;
}

export const DEFAULT_CHUNKER: ChunkerParams = { min: CHUNK_MIN, avg: CHUNK_AVG, max: CHUNK_MAX };

export function checkChunkerParams(p: ChunkerParams): string | undefined {
  const pow2 = (n: number) => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (!pow2(p.avg) || p.avg < 256 || p.avg > 64 * 1024 * 1024) return 'avg must be a power of two from 256 B to 64 MiB';
  if (!Number.isSafeInteger(p.min) || p.min < 64 || p.min > p.avg) return 'min must be from 64 B to avg';
  if (!Number.isSafeInteger(p.max) || p.max < p.avg || p.max > 64 * 1024 * 1024) return 'max must be from avg to 64 MiB';
  return undefined;
}

export function gearTable(chunkerKey: Uint8Array): Int32Array {
  const bytes = new Uint8Array(hkdfSync('sha256', chunkerKey, new Uint8Array(0), 'sluice v1 gear table', 1024));
  const view = new DataView(bytes.buffer);
  const gear = new Int32Array(256);
  for (let i = 0; i < 256; i++) gear[i] = view.getInt32(i * 4, true);
  return gear;
}

/** Bits of the cut mask: the expected distance from `min` to a cut is 2^bits ≈ avg - min. */
export function maskBits(p: ChunkerParams): number {
  return Math.min(31, Math.max(1, Math.round(Math.log2(Math.max(p.avg - p.min, 64)))));
}

function topMask(bits: number): number {
  return (~0 << (32 - bits)) | 0;
}

/**
 * The cut-point finder for one stream. Feed it the stream's bytes in any pieces; `next` says how many
 * bytes of a piece belong to the current chunk and whether the chunk ends there.
 */
export class Chunker {
  readonly #gear: Int32Array;
  readonly #min: number;
  readonly #avg: number;
  readonly #max: number;
  readonly #maskSmall: number;
  readonly #maskLarge: number;
  readonly #scanner: GearScanner | undefined;
  #fill = 0;
  #hash = 0;
  /** Set by `next`: the chunk ended at the returned position. */
  cut = false;

  /**
   * `scanner`: the WebAssembly scan over the chunk slots' memory (gear-scan.ts); pieces that lie in that
   * memory are scanned with it, others (and everything without a scanner) in JavaScript.
   */
  constructor(gear: Int32Array, params: ChunkerParams = DEFAULT_CHUNKER, scanner?: GearScanner) {
    const problem = checkChunkerParams(params);
    if (problem !== undefined) throw new Error(`chunker parameters: ${problem}`);
    if (gear.length !== 256) throw new Error('gear table must have 256 entries');
    if (scanner !== undefined && !scanner.hasGear(gear)) throw new Error('the scanner\'s memory holds another gear table');
    this.#scanner = scanner;
    this.#gear = gear;
    this.#min = params.min;
    this.#avg = params.avg;
    this.#max = params.max;
    const bits = maskBits(params);
    this.#maskSmall = topMask(bits);
    this.#maskLarge = topMask(bits);
  }

  /** Bytes in the current (unfinished) chunk. */
  get fill(): number {
    return this.#fill;
  }

  /**
   * Consumes `src[from…]` up to the end of the current chunk or of `src`; returns the end position.
   * When `cut` is true afterwards, the chunk ended there and the next call starts a new chunk.
   */
  next(src: Uint8Array, from: number): number {
    const end = src.length;
    let pos = from;
    let fill = this.#fill;
    this.cut = false;
    if (fill < this.#min) {
      const skip = Math.min(end - pos, this.#min - fill);
      pos += skip;
      fill += skip;
      if (pos === end && fill < this.#min) {
        this.#fill = fill;
        return pos;
      }
    }
    if (fill < this.#avg) {
      const stop = pos + Math.min(end - pos, this.#avg - fill);
      const at = this.#scan(src, pos, stop, this.#maskSmall);
      if (at >= 0) return this.#finish(at);
      fill += stop - pos;
      pos = stop;
      if (pos === end) {
        this.#fill = fill;
        return pos;
      }
    }
    const stop = pos + Math.min(end - pos, this.#max - fill);
    const at = this.#scan(src, pos, stop, this.#maskLarge);
    if (at >= 0) return this.#finish(at);
    fill += stop - pos;
    if (fill >= this.#max) return this.#finish(stop);
    this.#fill = fill;
    return stop;
  }

  #finish(at: number): number {
    this.cut = true;
    this.#fill = 0;
    this.#hash = 0;
    return at;
  }

  /** Position just past the first byte in [from, to) where the hash matches `mask`, or -1. */
  #scan(src: Uint8Array, from: number, to: number, mask: number): number {
    const scanner = this.#scanner;
    if (scanner !== undefined && src.buffer === scanner.buffer) {
      const base = src.byteOffset;
      const at = scanner.scan(base + from, base + to, mask, this.#hash);
      this.#hash = scanner.hash;
      return at < 0 ? -1 : at - base;
    }
    return this.#scanJs(src, from, to, mask);
  }

  /** The reference loop (and the fallback for pieces outside the scanner's memory). */
  #scanJs(src: Uint8Array, from: number, to: number, mask: number): number {
    const gear = this.#gear;
    let h = this.#hash;
    let i = from;
    const last4 = to - 3;
    for (; i < last4; i += 4) {
      h = ((h << 1) + (gear[src[i] as number] as number)) | 0;
      if ((h & mask) === 0) return this.#found(h, i + 1);
      h = ((h << 1) + (gear[src[i + 1] as number] as number)) | 0;
      if ((h & mask) === 0) return this.#found(h, i + 2);
      h = ((h << 1) + (gear[src[i + 2] as number] as number)) | 0;
      if ((h & mask) === 0) return this.#found(h, i + 3);
      h = ((h << 1) + (gear[src[i + 3] as number] as number)) | 0;
      if ((h & mask) === 0) return this.#found(h, i + 4);
    }
    for (; i < to; i++) {
      h = ((h << 1) + (gear[src[i] as number] as number)) | 0;
      if ((h & mask) === 0) return this.#found(h, i + 1);
    }
    this.#hash = h;
    return -1;
  }

  #found(h: number, at: number): number {
    this.#hash = h;
    return at;
  }
}
