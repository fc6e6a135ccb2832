/**
 * zlib's CRC-32 (ISO 3309, the one xbstream and xbcrypt use). @node-rs/crc32 uses the CPU's carry-less
 * multiply and is several times faster than node:zlib's crc32 (decision log in docs/architecture.md),
 * and every byte of every stream passes through it at least once.
 */
import { crc32 as hardwareCrc32 } from '@node-rs/crc32';

/** CRC-32 of `data`, continuing from `previous` (0 to start). */
export function crc32(data: Uint8Array, previous = 0): number {
  return hardwareCrc32(data as Buffer, previous);
}
