/**
 * Adler-32 (zlib's, start value 1), which qpress stores for every QuickLZ block. Node's zlib does not
 * expose it, and it is a few lines.
 */
const MOD = 65521;
/** Largest run of bytes whose sums cannot overflow 2^53 before the modulo (zlib uses 5552 for 32 bits). */
const RUN = 1 << 20;

export function adler32(data: Uint8Array, start = 1): number {
  let a = start & 0xffff;
  let b = (start >>> 16) & 0xffff;
  for (let pos = 0; pos < data.length; ) {
    const end = Math.min(pos + RUN, data.length);
    for (; pos < end; pos++) {
      a += data[pos]!;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}
