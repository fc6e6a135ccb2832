/**
 * What `mbstream -x` leaves from an xbstream, computed from the format description independently of
 * src/container/xbstream: P writes at its offset (a first chunk with the rewrite flag truncates), D
 * deletes and R renames a finished file (and do nothing when it is not there), and anything else (seek chunks included) is
 * refused as not modelled. Returns each file's SHA-256. Used where mbstream itself cannot be: mbstream 10.11 fails on
 * an E chunk that directly follows an R chunk, which mariabackup's own streams contain.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export async function mbstreamResult(file: string): Promise<Map<string, string>> {
  const data = await readFile(file);
  const files = new Map<string, Buffer[]>();
  const sizes = new Map<string, number>();
  const open = new Set<string>();
  /** A file opened again replaces what was there only with the rewrite flag; mbstream refuses it otherwise. */
  const openFile = (path: string, flags: number): void => {
    if (files.has(path) && (flags & 0x02) === 0) throw new Error(`${file}: ${path} sent again without the rewrite flag`);
    files.set(path, []);
    sizes.set(path, 0);
    open.add(path);
  };
  let at = 0;
  while (at < data.length) {
    if (data.toString('latin1', at, at + 8) !== 'XBSTCK01') throw new Error(`${file}: no chunk magic at ${at}`);
    const flags = data[at + 8] as number;
    const type = String.fromCharCode(data[at + 9] as number);
    const pathLength = data.readUInt32LE(at + 10);
    const path = data.toString('utf8', at + 14, at + 14 + pathLength);
    at += 14 + pathLength;
    if (type === 'P') {
      const length = Number(data.readBigUInt64LE(at));
      const offset = Number(data.readBigUInt64LE(at + 8));
      at += 20;
      if (!open.has(path)) openFile(path, flags);
      if (offset !== (sizes.get(path) ?? 0)) throw new Error(`${file}: ${path} written at ${offset} out of order`);
      files.get(path)?.push(data.subarray(at, at + length));
      sizes.set(path, offset + length);
      at += length;
    } else if (type === 'E') {
      if (!open.has(path)) openFile(path, flags);
      open.delete(path);
    } else if (type === 'D') {
      files.delete(path);
    } else if (type === 'R') {
      const toLength = data.readUInt32LE(at);
      const to = data.toString('utf8', at + 4, at + 4 + toLength);
      at += 4 + toLength;
      const moved = files.get(path);
      if (moved !== undefined) {
        files.delete(path);
        files.set(to, moved);
      }
    } else {
      throw new Error(`${file}: chunk type ${type} at ${at}`);
    }
  }
  const digests = new Map<string, string>();
  for (const [path, parts] of files) {
    const hash = createHash('sha256');
    for (const p of parts) hash.update(p);
    digests.set(path, hash.digest('hex'));
  }
  return digests;
}
