/**
 * CRC-32s already computed for exact byte views, so a consumer need not compute them again. A reader
 * thread that has just read a block computes its CRC beside the read; the xbstream writer looks it up for
 * a payload that is exactly that view. Keyed by the view object: any other view of the same bytes (a
 * slice, a copy) is simply not known and gets computed as usual.
 */
const known = new WeakMap<Uint8Array, number>();

export function rememberCrc32(view: Uint8Array, crc: number): void {
  known.set(view, crc);
}

export function knownCrc32(view: Uint8Array): number | undefined {
  return known.get(view);
}
