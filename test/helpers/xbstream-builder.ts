/**
 * Builds xbstream chunks by hand from the format description, independently of src/container/xbstream,
 * so hostile and peer-specific streams (Percona sparse, MariaDB seek/remove/rename) can be made in tests.
 */
import { crc32 } from 'node:zlib';

const MAGIC = Buffer.from('XBSTCK01', 'latin1');

function prefix(type: string, path: string | Buffer, flags = 0): Buffer {
  const p = typeof path === 'string' ? Buffer.from(path) : path;
  const head = Buffer.alloc(14);
  MAGIC.copy(head, 0);
  head[8] = flags;
  head[9] = type.charCodeAt(0);
  head.writeUInt32LE(p.length, 10);
  return Buffer.concat([head, p]);
}

function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

export interface PayloadOptions {
  offset?: number | bigint;
  flags?: number;
  type?: string;
  crc?: number;
  length?: number | bigint;
}

export function payloadChunk(path: string | Buffer, data: string | Buffer, options: PayloadOptions = {}): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([
    prefix(options.type ?? 'P', path, options.flags ?? 0),
    u64(options.length ?? bytes.length),
    u64(options.offset ?? 0),
    u32(options.crc ?? crc32(bytes)),
    bytes,
  ]);
}

export function eofChunk(path: string | Buffer, flags = 0): Buffer {
  return prefix('E', path, flags);
}

/** Percona sparse chunk: runs of (skip, data). */
export function sparseChunk(path: string, runs: { skip: number; data: Buffer }[], offset = 0, options: { crc?: number } = {}): Buffer {
  const map = Buffer.concat(runs.map((r) => Buffer.concat([u32(r.skip), u32(r.data.length)])));
  const payload = Buffer.concat(runs.map((r) => r.data));
  return Buffer.concat([
    prefix('S', path),
    u32(runs.length),
    u64(payload.length),
    u64(offset),
    u32(options.crc ?? crc32(Buffer.concat([map, payload]))),
    map,
    payload,
  ]);
}

/** MariaDB seek chunk. */
export function seekChunk(path: string, offset: number, flags = 0): Buffer {
  return Buffer.concat([prefix('S', path, flags), u64(offset)]);
}

export function removeChunk(path: string): Buffer {
  return prefix('D', path);
}

export function renameChunk(from: string, to: string): Buffer {
  const target = Buffer.from(to);
  return Buffer.concat([prefix('R', from), u32(target.length), target]);
}

/** A file as P chunks of at most `chunk` bytes and an E chunk. */
export function fileChunks(path: string, data: Buffer, chunk = 10 * 1024 * 1024): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunk) parts.push(payloadChunk(path, data.subarray(at, at + chunk), { offset: at }));
  parts.push(eofChunk(path));
  return Buffer.concat(parts);
}
