/**
 * Collects sealed blobs into one pack, then seals the header and names the pack by its BLAKE3. With
 * `keep` false the blobs' bytes are only hashed (the caller writes them out as they come) and `finish`
 * returns just the header and trailer.
 */
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { associatedData, sealParts } from '../crypto/envelope.js';
import { type BlobType, Names, ObjectKind } from '../format.js';
import { encodePackHeader, encodePackTrailer, type PackBlob } from './pack-format.js';

export interface FinishedPack {
  id: string;
  name: string;
  /** The pack's bytes (without `keep`: the header and trailer, which follow the blobs written already). */
  parts: Uint8Array[];
  size: number;
  blobs: PackBlob[];
}

export class PackBuilder {
  readonly #parts: Uint8Array[] = [];
  readonly #blobs: PackBlob[] = [];
  readonly #hasher = new Blake3Hasher();
  #size = 0;

  constructor(
    readonly type: BlobType,
    readonly keep = true,
  ) {}

  get size(): number {
    return this.#size;
  }

  get count(): number {
    return this.#blobs.length;
  }

  add(type: BlobType, id: Uint8Array, envelope: readonly Uint8Array[], rawLength: number): void {
    let length = 0;
    for (const part of envelope) {
      if (this.keep) this.#parts.push(part);
      this.#hasher.update(part);
      length += part.length;
    }
    this.#blobs.push({ type, id, offset: this.#size, length, rawLength });
    this.#size += length;
  }

  finish(dataKey: Uint8Array, repoId: Uint8Array): FinishedPack {
    const header = sealParts(dataKey, associatedData(repoId, ObjectKind.packHeader), [encodePackHeader(this.#blobs)]);
    const headerLength = header.reduce((n, p) => n + p.length, 0);
    const trailer = encodePackTrailer(headerLength);
    for (const part of [...header, trailer]) {
      this.#parts.push(part);
      this.#hasher.update(part);
    }
    const id = this.#hasher.digest('hex');
    return { id, name: Names.pack(id), parts: this.#parts, size: this.#size + headerLength + trailer.length, blobs: this.#blobs };
  }
}
