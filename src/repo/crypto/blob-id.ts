/** Blob ids: keyed BLAKE3 of the plaintext (32 bytes), so equal data deduplicates and ids leak nothing. */
import { Blake3Hasher } from '@napi-rs/blake-hash';

export function blobId(idKey: Uint8Array, data: Uint8Array): Buffer {
  return Blake3Hasher.newKeyed(Buffer.from(idKey.buffer, idKey.byteOffset, idKey.byteLength)).update(data).digestBuffer();
}

/** Unkeyed BLAKE3 of stored bytes: the names of packs, index and snapshot objects. */
export function contentHash(parts: Uint8Array | readonly Uint8Array[]): string {
  const hasher = new Blake3Hasher();
  for (const part of parts instanceof Uint8Array ? [parts] : parts) hasher.update(part);
  return hasher.digest('hex');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}
