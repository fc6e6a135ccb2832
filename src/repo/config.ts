/**
 * The `config` object: repository id and the parameters every writer must share (chunker, compression,
 * pack size). Sealed like every other object (kind config, repository id zero since it is inside).
 */
import { FormatError } from '../errors.js';
import { type ChunkerParams, checkChunkerParams, DEFAULT_CHUNKER } from './content/chunker.js';
import { FORMAT_VERSION, Limits } from './format.js';

export interface RepoConfig {
  version: number;
  /** 32 random bytes, bound into every envelope's associated data. */
  id: Uint8Array;
  created: string;
  chunker: ChunkerParams;
  /** zstd level for data blobs (0: store uncompressed). */
  compressionLevel: number;
  /** Target pack size in bytes. */
  packSize: number;
}

export const DEFAULT_COMPRESSION_LEVEL = 1;
export const DEFAULT_PACK_SIZE = 32 * 1024 * 1024;
export const MIN_PACK_SIZE = 64 * 1024;
export const MAX_PACK_SIZE = 512 * 1024 * 1024;

export function newConfig(id: Uint8Array, created: Date, overrides: Partial<Pick<RepoConfig, 'chunker' | 'compressionLevel' | 'packSize'>> = {}): RepoConfig {
  return {
    version: FORMAT_VERSION,
    id,
    created: created.toISOString(),
    chunker: overrides.chunker ?? DEFAULT_CHUNKER,
    compressionLevel: overrides.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL,
    packSize: overrides.packSize ?? DEFAULT_PACK_SIZE,
  };
}

export function encodeConfig(c: RepoConfig): Buffer {
  return Buffer.from(
    JSON.stringify({
      version: c.version,
      id: Buffer.from(c.id).toString('hex'),
      created: c.created,
      chunker: c.chunker,
      compression: { algorithm: 'zstd', level: c.compressionLevel },
      packSize: c.packSize,
    }),
  );
}

export function decodeConfig(plain: Uint8Array): RepoConfig {
  const bad = (why: string): never => {
    throw new FormatError('E_BAD_CONFIG', `repository config is invalid: ${why}`, { object: 'config' });
  };
  if (plain.length > Limits.smallObjectBytes) bad('too large');
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(Buffer.from(plain).toString('utf8')) as Record<string, unknown>;
  } catch {
    return bad('not JSON');
  }
  if (typeof d !== 'object' || d === null) bad('not an object');
  if (d.version !== FORMAT_VERSION) bad(`version ${String(d.version)} is not supported (this sluice reads version ${FORMAT_VERSION})`);
  if (typeof d.id !== 'string' || !/^[0-9a-f]{64}$/.test(d.id)) bad('id');
  const ch = d.chunker as Record<string, unknown> | undefined;
  const chunker = { min: Number(ch?.min), avg: Number(ch?.avg), max: Number(ch?.max) };
  const problem = checkChunkerParams(chunker);
  if (problem !== undefined) bad(`chunker: ${problem}`);
  const comp = d.compression as Record<string, unknown> | undefined;
  const level = Number(comp?.level);
  if (comp?.algorithm !== 'zstd' || !Number.isInteger(level) || level < -7 || level > 22) bad('compression');
  const packSize = Number(d.packSize);
  if (!Number.isSafeInteger(packSize) || packSize < MIN_PACK_SIZE || packSize > MAX_PACK_SIZE) bad('packSize');
  return {
    version: FORMAT_VERSION,
    id: Buffer.from(d.id as string, 'hex'),
    created: typeof d.created === 'string' ? d.created.slice(0, 64) : '',
    chunker,
    compressionLevel: level,
    packSize,
  };
}
