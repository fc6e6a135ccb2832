/**
 * Encoding of one blob's plaintext before sealing, and the checks on opening it:
 *
 *   plaintext = compression byte (0 none, 1 zstd) ‖ data or zstd frame
 *
 * zstd is kept only when it shrinks the data. Opening checks the envelope, the decompressed length
 * against the index's raw length (decompression never writes past it), and the keyed id of the result.
 */
import { createRequire } from 'node:module';
import { IntegrityError, type Where } from '../../errors.js';
import { blobId } from '../crypto/blob-id.js';
import { associatedData, open, sealInto, sealParts } from '../crypto/envelope.js';
import { Compression, ENVELOPE_OVERHEAD, type ObjectKind } from '../format.js';

interface ZstdBinding {
  CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  compressBound(n: number): number;
  getFrameContentSize(frame: Uint8Array): number | null;
}
// The low-level binding compresses into a buffer we own and reuse; the high-level API allocates per call.
// Loaded with the first blob compressed or decompressed: opening a repository to list it needs none.
let binding: ZstdBinding | undefined;
const zstd = (): ZstdBinding => (binding ??= createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding);

const NONE = Uint8Array.of(Compression.none);

/** What sealing adds to a chunk: the compression byte and the envelope (salt, nonce, tag). */
export const SEAL_ROOM_BYTES = 1 + ENVELOPE_OVERHEAD;

export class BlobCodec {
  #cctx: InstanceType<ZstdBinding['CCtx']> | undefined;
  #dctx: InstanceType<ZstdBinding['DCtx']> | undefined;
  #scratch = new Uint8Array(0);

  constructor(
    readonly dataKey: Uint8Array,
    readonly idKey: Uint8Array,
    readonly repoId: Uint8Array,
  ) {}

  /** zstd of `data` into the scratch from byte 1 on; returns its length. */
  #compress(data: Uint8Array, level: number): number {
    const bound = zstd().compressBound(data.length) + 1;
    if (this.#scratch.length < bound) this.#scratch = new Uint8Array(bound);
    this.#cctx ??= new (zstd().CCtx)();
    return this.#cctx.compress(this.#scratch.subarray(1), data, level);
  }

  /** The keyed id of `data`. */
  idOf(data: Uint8Array): Buffer {
    return blobId(this.idKey, data);
  }

  /** Compresses (when it helps, and level > 0) and seals; returns the envelope in parts. */
  seal(kind: ObjectKind, id: Uint8Array, data: Uint8Array, level: number): { parts: Uint8Array[]; compressed: boolean } {
    const aad = associatedData(this.repoId, kind, id);
    if (level !== 0 && data.length >= 64) {
      const n = this.#compress(data, level);
      if (n + 1 < data.length) {
        this.#scratch[0] = Compression.zstd;
        return { parts: sealParts(this.dataKey, aad, [this.#scratch.subarray(0, n + 1)]), compressed: true };
      }
    }
    return { parts: sealParts(this.dataKey, aad, [NONE, data]), compressed: false };
  }

  /**
   * Compresses (when it helps, and level > 0) and seals `data` into `out` from its start; returns the
   * envelope's length (at most `data.length` + SEAL_ROOM_BYTES). `data` may be the start of `out` (a
   * chunk sealed in its slot, the envelope written over it). The ciphertext goes out in small pieces,
   * each given to `release` once copied, so sealing leaves nothing large behind for the collector.
   */
  sealTo(kind: ObjectKind, id: Uint8Array, data: Uint8Array, out: Uint8Array, level: number, release?: (piece: Uint8Array) => void): { length: number; compressed: boolean } {
    const aad = associatedData(this.repoId, kind, id);
    if (level !== 0 && data.length >= 64) {
      const n = this.#compress(data, level);
      if (n + 1 < data.length) {
        this.#scratch[0] = Compression.zstd;
        return { length: sealInto(this.dataKey, aad, [this.#scratch.subarray(0, n + 1)], out, release), compressed: true };
      }
    }
    return { length: sealInto(this.dataKey, aad, [NONE, data], out, release), compressed: false };
  }

  /** Opens, decompresses and verifies one blob. */
  open(kind: ObjectKind, id: Uint8Array, envelope: Uint8Array, rawLength: number, where: Where): Uint8Array {
    const plain = open(this.dataKey, associatedData(this.repoId, kind, id), envelope, where, 'blob');
    if (plain.length < 1) throw new IntegrityError('E_BLOB_EMPTY', 'blob plaintext has no compression byte', where);
    let data: Uint8Array;
    if (plain[0] === Compression.none) {
      data = plain.subarray(1);
    } else if (plain[0] === Compression.zstd) {
      const frame = plain.subarray(1);
      const declared = zstd().getFrameContentSize(frame);
      if (declared !== null && declared !== rawLength) {
        throw new IntegrityError('E_BLOB_LENGTH', `blob declares ${declared} bytes but the index says ${rawLength}`, where);
      }
      data = new Uint8Array(rawLength);
      let n: number;
      try {
        this.#dctx ??= new (zstd().DCtx)();
        n = rawLength === 0 ? 0 : this.#dctx.decompress(data, frame);
      } catch (err) {
        throw new IntegrityError('E_BLOB_DECOMPRESS', 'blob does not decompress', where, { cause: err });
      }
      if (n !== rawLength) throw new IntegrityError('E_BLOB_LENGTH', `blob decompresses to ${n} bytes, the index says ${rawLength}`, where);
    } else {
      throw new IntegrityError('E_BLOB_COMPRESSION', `blob has unknown compression ${plain[0]}`, where);
    }
    if (data.length !== rawLength) {
      throw new IntegrityError('E_BLOB_LENGTH', `blob holds ${data.length} bytes, the index says ${rawLength}`, where);
    }
    if (!blobId(this.idKey, data).equals(id)) {
      throw new IntegrityError('E_BLOB_ID', 'blob content does not match its id', where);
    }
    return data;
  }
}
