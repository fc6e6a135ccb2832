/**
 * zlib's CRC-32 (ISO 3309, the one xbstream and xbcrypt use). @node-rs/crc32 uses the CPU's carry-less
 * multiply and is several times faster than node:zlib's crc32 (decision log in docs/architecture.md),
 * and every byte of every stream passes through it at least once.
 *
 * Loading the addon costs start-up time (a 550 KB library and its loader) that a small stream never earns
 * back: the first bytes go through node:zlib's crc32, the same function, and the addon is loaded once
 * NATIVE_AFTER_BYTES have been checked.
 */
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, previous: number) => number;

/** Bytes checked with node:zlib before the addon is loaded. */
const NATIVE_AFTER_BYTES = 4 << 20;

/** node:zlib's crc32 (node 20.15 and later), else none: the addon from the start. */
const zlibCrc32 = (zlib as { crc32?: Crc32 }).crc32;
let native: Crc32 | undefined;
let checked = 0;

/** CRC-32 of `data`, continuing from `previous` (0 to start). */
export function crc32(data: Uint8Array, previous = 0): number {
  if (native === undefined && zlibCrc32 !== undefined && checked < NATIVE_AFTER_BYTES) {
    checked += data.length;
    return zlibCrc32(data, previous);
  }
  native ??= (createRequire(import.meta.url)('@node-rs/crc32') as { crc32: (data: Buffer, previous: number) => number }).crc32 as Crc32;
  return native(data, previous);
}
