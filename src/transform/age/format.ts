/** The age STREAM layout shared by the executor (which seals and opens chunks) and the age transforms. */

/** age STREAM: 64 KiB plaintext chunks, each sealed with ChaCha20-Poly1305 and a 16-byte tag. */
export const AGE_CHUNK_BYTES = 64 * 1024;
export const AGE_TAG_BYTES = 16;
export const AGE_SEALED_CHUNK_BYTES = AGE_CHUNK_BYTES + AGE_TAG_BYTES;

/** The STREAM nonce: an 11-byte big-endian chunk counter, then 1 for the last chunk and 0 otherwise. */
export function ageNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  view.setUint32(3, Math.floor(counter / 0x100000000), false);
  view.setUint32(7, counter >>> 0, false);
  nonce[11] = last ? 1 : 0;
  return nonce;
}
