/**
 * The first part of a file or stream for the browser: at most `limit` bytes, each chunk authenticated
 * and checked against its id on the way (the file's whole SHA-256 is checked only by a full read:
 * download or check). `.zst`, `.lz4` and `.gz` are shown decompressed.
 */
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import type { Repository } from '../repo/repository.js';
import { readFile } from '../repo/snapshot/stored-file-reader.js';
import type { FileNode } from '../repo/snapshot/tree.js';
import type { CryptoPool } from '../repo/workers/crypto-pool.js';
import { createDecoder, type Layer } from '../transform/decode.js';

export interface Preview {
  /** The bytes shown (after decompression when `decoded` is set). */
  data: Buffer;
  /** More bytes follow than were shown. */
  truncated: boolean;
  decoded?: 'zstd' | 'lz4' | 'gzip';
  /** No NUL byte and valid UTF-8. */
  text: boolean;
  /** An image type recognised by its first bytes. */
  image?: string;
}

async function take(source: AsyncIterable<Uint8Array>, limit: number): Promise<{ data: Buffer; truncated: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  const it = source[Symbol.asyncIterator]();
  try {
    while (size <= limit) {
      const next = await it.next();
      if (next.done === true) return { data: Buffer.concat(parts, size).subarray(0, limit), truncated: false };
      parts.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      size += next.value.byteLength;
    }
  } finally {
    await it.return?.(undefined);
  }
  return { data: Buffer.concat(parts, size).subarray(0, limit), truncated: true };
}

function isText(data: Buffer): boolean {
  if (data.includes(0)) return false;
  try {
    // A cut at the end of the preview may split a character: allow three trailing bytes of one.
    new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(0, Math.max(0, data.length - 3)));
    return true;
  } catch {
    return false;
  }
}

const IMAGES: [string, number[]][] = [
  ['image/png', [0x89, 0x50, 0x4e, 0x47]],
  ['image/jpeg', [0xff, 0xd8, 0xff]],
  ['image/gif', [0x47, 0x49, 0x46, 0x38]],
  ['image/webp', [0x52, 0x49, 0x46, 0x46]],
];

export function imageType(data: Uint8Array): string | undefined {
  for (const [type, magic] of IMAGES) if (magic.every((b, i) => data[i] === b)) return type;
  return undefined;
}

function compressionOf(name: string): 'zstd' | 'lz4' | 'gzip' | undefined {
  if (name.endsWith('.zst')) return 'zstd';
  if (name.endsWith('.lz4')) return 'lz4';
  if (name.endsWith('.gz')) return 'gzip';
  return undefined;
}

export async function previewFile(repo: Repository, pool: CryptoPool, node: FileNode, path: string, limit: number): Promise<Preview> {
  const codec = compressionOf(node.name);
  const raw = readFile(repo, pool, node, path, { concurrency: 2 });
  if (codec === undefined) {
    const { data, truncated } = await take(raw, limit);
    return { data, truncated, text: isText(data), ...(imageType(data) === undefined ? {} : { image: imageType(data) as string }) };
  }
  if (codec === 'gzip') {
    const gunzip = Readable.from(raw).pipe(createGunzip());
    try {
      const { data, truncated } = await take(gunzip, limit);
      return { data, truncated, decoded: 'gzip', text: isText(data) };
    } finally {
      gunzip.destroy();
    }
  }
  const decoder = await createDecoder({ decompress: true, decrypt: false });
  try {
    const { data, truncated } = await take(decoder.decode(raw, path, [codec as Layer]), limit);
    return { data, truncated, decoded: codec, text: isText(data) };
  } finally {
    await Promise.all(decoder.pools.map((p) => p.close()));
  }
}
