/**
 * Constants of the repository format (docs/repository-format.md is the prose version): object kinds,
 * names, and the caps every reader applies before it allocates or trusts a length.
 */

export const FORMAT_VERSION = 1;

/** What a sealed envelope holds; bound into its associated data so one kind cannot pass for another. */
export const ObjectKind = {
  data: 1,
  tree: 2,
  packHeader: 3,
  index: 4,
  snapshot: 5,
  lock: 6,
  config: 7,
} as const;
export type ObjectKind = (typeof ObjectKind)[keyof typeof ObjectKind];

/** Blob types stored in packs. */
export type BlobType = 'data' | 'tree';
export const BLOB_TYPE_CODE: Record<BlobType, number> = { data: ObjectKind.data, tree: ObjectKind.tree };
export function blobTypeFromCode(code: number): BlobType | undefined {
  return code === ObjectKind.data ? 'data' : code === ObjectKind.tree ? 'tree' : undefined;
}

export const ID_BYTES = 32;

/** Bytes a sealed envelope adds: 24 random bytes (subkey salt + nonce) and a 16-byte tag. */
export const ENVELOPE_SALT_BYTES = 12;
export const ENVELOPE_NONCE_BYTES = 12;
export const ENVELOPE_TAG_BYTES = 16;
export const ENVELOPE_OVERHEAD = ENVELOPE_SALT_BYTES + ENVELOPE_NONCE_BYTES + ENVELOPE_TAG_BYTES;

/** First plaintext byte of a blob: how the rest is encoded. */
export const Compression = { none: 0, zstd: 1 } as const;

/** Chunker defaults (FastCDC): min / average / max chunk size. */
export const CHUNK_MIN = 512 * 1024;
export const CHUNK_AVG = 1024 * 1024;
export const CHUNK_MAX = 8 * 1024 * 1024;

/** Caps applied to anything read from a repository. */
export const Limits = {
  /** Largest plaintext a blob may claim (the chunker's max, with room for tree blobs). */
  blobBytes: 64 * 1024 * 1024,
  /** Largest pack a reader accepts. */
  packBytes: 2 * 1024 * 1024 * 1024 - 1,
  /** Blobs per pack header. */
  packBlobs: 1_000_000,
  /** Largest sealed pack header. */
  packHeaderBytes: 64 * 1024 * 1024,
  /** Index objects, snapshot objects, lock and key files. */
  indexObjectBytes: 256 * 1024 * 1024,
  snapshotObjectBytes: 16 * 1024 * 1024,
  smallObjectBytes: 64 * 1024,
  /** One tree blob (one directory listing). */
  treeBytes: 64 * 1024 * 1024,
} as const;

/** Where each kind of object lives in the store. */
export const Names = {
  config: 'config',
  keysPrefix: 'keys/',
  dataPrefix: 'data/',
  indexPrefix: 'index/',
  snapshotsPrefix: 'snapshots/',
  locksPrefix: 'locks/',
  key: (id: string) => `keys/${id}`,
  /** Packs fan out over 256 directories by the first byte of their id. */
  pack: (id: string) => `data/${id.slice(0, 2)}/${id}`,
  index: (id: string) => `index/${id}`,
  snapshot: (id: string) => `snapshots/${id}`,
  lock: (id: string) => `locks/${id}`,
} as const;

const HEX64 = /^[0-9a-f]{64}$/;

/** The id in an object name (`data/ab/abcd…`, `index/abcd…`), or undefined when the name is not ours. */
export function idFromName(name: string, prefix: string): string | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  if (prefix === Names.dataPrefix) {
    const m = /^([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(rest);
    return m !== null && m[2]?.startsWith(m[1] as string) === true ? m[2] : undefined;
  }
  return HEX64.test(rest) ? rest : undefined;
}

export function isHexId(text: string): boolean {
  return HEX64.test(text);
}
