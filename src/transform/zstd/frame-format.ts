/** What the zstd encoder's callers must know of its frames. */

/** ZSTD_COMPRESSBOUND: the largest zstd frame a block can become (what a caller's output buffer must hold). */
export function zstdOutputBound(inputBytes: number): number {
  const small = 128 << 10;
  return inputBytes + (inputBytes >>> 8) + (inputBytes < small ? (small - inputBytes) >>> 11 : 0);
}
