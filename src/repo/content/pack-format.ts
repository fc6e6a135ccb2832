/**
 * Pack files: blobs sealed one by one and written back to back, then a sealed header listing them,
 * then an 8-byte trailer. The header sits at the end so a pack can be written in one pass.
 *
 *   envelope(blob 0) ‖ … ‖ envelope(blob n-1) ‖ envelope(header) ‖ u32le header envelope length ‖ "SPK1"
 *
 * Header plaintext: u32le blob count, then per blob 41 bytes:
 *   type u8 (1 data, 2 tree) ‖ id (32) ‖ u32le envelope length ‖ u32le raw (plaintext) length
 * Offsets are implicit: blob i starts where blob i-1 ended, blob 0 at 0.
 */
import { FormatError } from '../../errors.js';
import { BLOB_TYPE_CODE, type BlobType, blobTypeFromCode, ENVELOPE_OVERHEAD, ID_BYTES, Limits } from '../format.js';

export const PACK_MAGIC = Buffer.from('SPK1', 'latin1');
export const PACK_TRAILER_BYTES = 8;
export const PACK_ENTRY_BYTES = 1 + ID_BYTES + 4 + 4;

export interface PackBlob {
  type: BlobType;
  id: Uint8Array;
  offset: number;
  /** Envelope length in the pack. */
  length: number;
  /** Plaintext length once opened and decompressed. */
  rawLength: number;
}

export function encodePackHeader(blobs: readonly Omit<PackBlob, 'offset'>[]): Buffer {
  const out = Buffer.alloc(4 + blobs.length * PACK_ENTRY_BYTES);
  out.writeUInt32LE(blobs.length, 0);
  let at = 4;
  for (const b of blobs) {
    out[at] = BLOB_TYPE_CODE[b.type];
    out.set(b.id, at + 1);
    out.writeUInt32LE(b.length, at + 1 + ID_BYTES);
    out.writeUInt32LE(b.rawLength, at + 5 + ID_BYTES);
    at += PACK_ENTRY_BYTES;
  }
  return out;
}

export function encodePackTrailer(headerEnvelopeLength: number): Buffer {
  const out = Buffer.alloc(PACK_TRAILER_BYTES);
  out.writeUInt32LE(headerEnvelopeLength, 0);
  PACK_MAGIC.copy(out, 4);
  return out;
}

/** Checks the trailer against the pack size; returns the header envelope's offset and length. */
export function decodePackTrailer(trailer: Uint8Array, packSize: number, object: string): { offset: number; length: number } {
  const bad = (why: string): never => {
    throw new FormatError('E_BAD_PACK', `pack trailer is invalid: ${why}`, { object, offset: Math.max(0, packSize - PACK_TRAILER_BYTES) });
  };
  if (packSize < PACK_TRAILER_BYTES + ENVELOPE_OVERHEAD + 4) bad(`pack of ${packSize} bytes is too short`);
  if (packSize > Limits.packBytes) bad(`pack of ${packSize} bytes is larger than ${Limits.packBytes}`);
  if (trailer.length !== PACK_TRAILER_BYTES) bad('short read');
  const view = Buffer.from(trailer.buffer, trailer.byteOffset, trailer.byteLength);
  if (!view.subarray(4, 8).equals(PACK_MAGIC)) bad('magic is not SPK1');
  const length = view.readUInt32LE(0);
  if (length < ENVELOPE_OVERHEAD + 4) bad(`header length ${length} is too small`);
  if (length > Limits.packHeaderBytes) bad(`header length ${length} exceeds ${Limits.packHeaderBytes}`);
  if (length > packSize - PACK_TRAILER_BYTES) bad(`header length ${length} exceeds the pack`);
  return { offset: packSize - PACK_TRAILER_BYTES - length, length };
}

/** Parses an opened header; every length is checked against the space the pack has for blobs. */
export function decodePackHeader(plain: Uint8Array, blobArea: number, object: string): PackBlob[] {
  const bad = (why: string, offset?: number): never => {
    throw new FormatError('E_BAD_PACK', `pack header is invalid: ${why}`, offset === undefined ? { object } : { object, offset });
  };
  const view = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  if (view.length < 4) bad('shorter than its count');
  const count = view.readUInt32LE(0);
  if (count > Limits.packBlobs) bad(`${count} blobs is more than ${Limits.packBlobs}`);
  if (view.length !== 4 + count * PACK_ENTRY_BYTES) bad(`${view.length} bytes do not hold ${count} entries`);
  const blobs: PackBlob[] = [];
  let offset = 0;
  for (let i = 0, at = 4; i < count; i++, at += PACK_ENTRY_BYTES) {
    const type = blobTypeFromCode(view[at] as number);
    if (type === undefined) bad(`entry ${i} has unknown type ${view[at]}`);
    const length = view.readUInt32LE(at + 1 + ID_BYTES);
    const rawLength = view.readUInt32LE(at + 5 + ID_BYTES);
    if (length < ENVELOPE_OVERHEAD + 1 || length > Limits.blobBytes + ENVELOPE_OVERHEAD + 1) bad(`entry ${i} has length ${length}`);
    if (rawLength > Limits.blobBytes) bad(`entry ${i} has raw length ${rawLength}`);
    if (offset + length > blobArea) bad(`entry ${i} ends past the blob area (${offset + length} > ${blobArea})`, offset);
    blobs.push({ type: type as BlobType, id: Uint8Array.from(view.subarray(at + 1, at + 1 + ID_BYTES)), offset, length, rawLength });
    offset += length;
  }
  if (offset !== blobArea) bad(`entries cover ${offset} bytes but the blob area has ${blobArea}`);
  return blobs;
}
