/**
 * Index objects (`index/<id>`): which blobs each pack holds, so readers never open pack headers.
 * Sealed (kind index); plaintext:
 *
 *   "SIX1" ‖ u32le pack count ‖ per pack: pack id (32) ‖ u32le pack size ‖ u32le blob count ‖
 *     per blob 45 bytes: type u8 ‖ id (32) ‖ u32le offset ‖ u32le envelope length ‖ u32le raw length
 *
 * Index objects are written by each backup (every few packs, and at the end) and replaced by prune.
 * A blob may be listed in several packs (two backups stored it at once); any copy will do.
 */
import { FormatError } from '../../errors.js';
import { BLOB_TYPE_CODE, blobTypeFromCode, ENVELOPE_OVERHEAD, ID_BYTES, Limits } from '../format.js';
import type { PackBlob } from './pack-format.js';

export const INDEX_MAGIC = Buffer.from('SIX1', 'latin1');
const PACK_HEAD_BYTES = ID_BYTES + 4 + 4;
const BLOB_BYTES = 1 + ID_BYTES + 4 + 4 + 4;

export interface IndexedPack {
  id: Uint8Array;
  size: number;
  blobs: PackBlob[];
}

export function encodeIndex(packs: readonly IndexedPack[]): Buffer {
  let size = 8;
  for (const p of packs) size += PACK_HEAD_BYTES + p.blobs.length * BLOB_BYTES;
  const out = Buffer.alloc(size);
  INDEX_MAGIC.copy(out, 0);
  out.writeUInt32LE(packs.length, 4);
  let at = 8;
  for (const p of packs) {
    out.set(p.id, at);
    out.writeUInt32LE(p.size, at + ID_BYTES);
    out.writeUInt32LE(p.blobs.length, at + ID_BYTES + 4);
    at += PACK_HEAD_BYTES;
    for (const b of p.blobs) {
      out[at] = BLOB_TYPE_CODE[b.type];
      out.set(b.id, at + 1);
      out.writeUInt32LE(b.offset, at + 1 + ID_BYTES);
      out.writeUInt32LE(b.length, at + 5 + ID_BYTES);
      out.writeUInt32LE(b.rawLength, at + 9 + ID_BYTES);
      at += BLOB_BYTES;
    }
  }
  return out;
}

/**
 * Parses an opened index object, calling `onPack` per pack so a large index is never held twice.
 * Every count and length is checked against the bytes left and the format's caps.
 */
export function decodeIndex(plain: Uint8Array, object: string, onPack: (pack: IndexedPack) => void): void {
  const view = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  const bad = (why: string, offset: number): never => {
    throw new FormatError('E_BAD_INDEX', `index object is invalid: ${why}`, { object, offset });
  };
  if (view.length < 8 || !view.subarray(0, 4).equals(INDEX_MAGIC)) bad('magic is not SIX1', 0);
  const packs = view.readUInt32LE(4);
  let at = 8;
  for (let p = 0; p < packs; p++) {
    if (at + PACK_HEAD_BYTES > view.length) bad(`pack entry ${p} is truncated`, at);
    const id = Uint8Array.from(view.subarray(at, at + ID_BYTES));
    const size = view.readUInt32LE(at + ID_BYTES);
    const count = view.readUInt32LE(at + ID_BYTES + 4);
    if (size > Limits.packBytes) bad(`pack entry ${p} claims ${size} bytes`, at);
    if (count > Limits.packBlobs || at + PACK_HEAD_BYTES + count * BLOB_BYTES > view.length) {
      bad(`pack entry ${p} claims ${count} blobs, more than the object holds`, at);
    }
    at += PACK_HEAD_BYTES;
    const blobs: PackBlob[] = [];
    for (let i = 0; i < count; i++, at += BLOB_BYTES) {
      const type = blobTypeFromCode(view[at] as number);
      const offset = view.readUInt32LE(at + 1 + ID_BYTES);
      const length = view.readUInt32LE(at + 5 + ID_BYTES);
      const rawLength = view.readUInt32LE(at + 9 + ID_BYTES);
      if (type === undefined) bad(`blob ${i} of pack entry ${p} has unknown type ${view[at]}`, at);
      if (length < ENVELOPE_OVERHEAD + 1 || length > Limits.blobBytes + ENVELOPE_OVERHEAD + 1 || offset + length > size) {
        bad(`blob ${i} of pack entry ${p} has offset ${offset} and length ${length} (pack of ${size} bytes)`, at);
      }
      if (rawLength > Limits.blobBytes) bad(`blob ${i} of pack entry ${p} has raw length ${rawLength}`, at);
      blobs.push({ type: type as 'data' | 'tree', id: Uint8Array.from(view.subarray(at + 1, at + 1 + ID_BYTES)), offset, length, rawLength });
    }
    onPack({ id, size, blobs });
  }
  if (at !== view.length) bad(`${view.length - at} bytes follow the last pack entry`, at);
}
