/**
 * XXH32 (the checksum of the LZ4 frame format: header checksum, block and content checksums).
 * `xxh32` and `Xxh32` use the reference C implementation that the `lz4` package builds beside its LZ4
 * binding: in JavaScript the content checksum was 25-31% of an LZ4 codec worker's time (1.3 GB
 * datadir, `--compress=lz4`), and the decoder hashes every decoded byte on the main thread. The
 * JavaScript version below stays as the fallback and as the reference a test compares the two with.
 * Incremental: feed any chunking, the digest is the same.
 */
import { createRequire } from 'node:module';

interface NativeXxh32 {
  xxHash(data: Buffer, seed: number): number;
  /** A new state (a Buffer the C library owns), reset to `seed`. */
  init(seed: number): Buffer;
  update(state: Buffer, data: Buffer): number;
  digest(state: Buffer): number;
}

let native: NativeXxh32 | null | undefined;
function nativeXxh32(): NativeXxh32 | null {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)('lz4/build/Release/xxhash.node') as NativeXxh32;
    } catch {
      native = null;
    }
  }
  return native;
}

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

function readU32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) | 0;
}

/** XXH32 in JavaScript (the fallback, and the reference for tests). */
export class Xxh32Reference {
  #v1: number;
  #v2: number;
  #v3: number;
  #v4: number;
  readonly #seed: number;
  readonly #carry = new Uint8Array(16);
  #carryLength = 0;
  #total = 0;

  constructor(seed = 0) {
    this.#seed = seed | 0;
    this.#v1 = (this.#seed + P1 + P2) | 0;
    this.#v2 = (this.#seed + P2) | 0;
    this.#v3 = this.#seed;
    this.#v4 = (this.#seed - P1) | 0;
  }

  update(data: Uint8Array): this {
    let pos = 0;
    const n = data.length;
    this.#total += n;
    if (this.#carryLength > 0) {
      const take = Math.min(16 - this.#carryLength, n);
      this.#carry.set(data.subarray(0, take), this.#carryLength);
      this.#carryLength += take;
      pos = take;
      if (this.#carryLength < 16) return this;
      this.#stripe(this.#carry, 0);
      this.#carryLength = 0;
    }
    let v1 = this.#v1;
    let v2 = this.#v2;
    let v3 = this.#v3;
    let v4 = this.#v4;
    const last = n - 16;
    for (; pos <= last; pos += 16) {
      v1 = round(v1, readU32(data, pos));
      v2 = round(v2, readU32(data, pos + 4));
      v3 = round(v3, readU32(data, pos + 8));
      v4 = round(v4, readU32(data, pos + 12));
    }
    this.#v1 = v1;
    this.#v2 = v2;
    this.#v3 = v3;
    this.#v4 = v4;
    if (pos < n) {
      this.#carry.set(data.subarray(pos), 0);
      this.#carryLength = n - pos;
    }
    return this;
  }

  #stripe(b: Uint8Array, i: number): void {
    this.#v1 = round(this.#v1, readU32(b, i));
    this.#v2 = round(this.#v2, readU32(b, i + 4));
    this.#v3 = round(this.#v3, readU32(b, i + 8));
    this.#v4 = round(this.#v4, readU32(b, i + 12));
  }

  /** The 32-bit digest as an unsigned number. Does not reset the state. */
  digest(): number {
    let h: number;
    if (this.#total >= 16) {
      h = (rotl(this.#v1, 1) + rotl(this.#v2, 7) + rotl(this.#v3, 12) + rotl(this.#v4, 18)) | 0;
    } else {
      h = (this.#seed + P5) | 0;
    }
    h = (h + this.#total) | 0; // the length modulo 2^32
    let i = 0;
    const tail = this.#carry;
    const end = this.#carryLength;
    for (; i + 4 <= end; i += 4) h = Math.imul(rotl((h + Math.imul(readU32(tail, i), P3)) | 0, 17), P4);
    for (; i < end; i++) h = Math.imul(rotl((h + Math.imul(tail[i]!, P5)) | 0, 11), P1);
    h ^= h >>> 15;
    h = Math.imul(h, P2);
    h ^= h >>> 13;
    h = Math.imul(h, P3);
    h ^= h >>> 16;
    return h >>> 0;
  }
}

/** Incremental XXH32, native when the `lz4` package's binding loads. */
export class Xxh32 {
  readonly #native = nativeXxh32();
  readonly #state: Buffer | Xxh32Reference;

  constructor(seed = 0) {
    this.#state = this.#native === null ? new Xxh32Reference(seed) : this.#native.init(seed >>> 0);
  }

  update(data: Uint8Array): this {
    if (this.#state instanceof Xxh32Reference) this.#state.update(data);
    else (this.#native as NativeXxh32).update(this.#state, asBuffer(data));
    return this;
  }

  /** The 32-bit digest as an unsigned number. Does not reset the state. */
  digest(): number {
    return this.#state instanceof Xxh32Reference ? this.#state.digest() : (this.#native as NativeXxh32).digest(this.#state) >>> 0;
  }
}

export function xxh32(data: Uint8Array, seed = 0): number {
  const n = nativeXxh32();
  return n === null ? new Xxh32Reference(seed).update(data).digest() : n.xxHash(asBuffer(data), seed >>> 0) >>> 0;
}
