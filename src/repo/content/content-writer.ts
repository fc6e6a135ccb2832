/**
 * Everything one backup needs to store data: the chunk slots, the crypto workers and the blob writer.
 * `saveStream` stores bytes as data blobs; `saveTree` stores a tree (or content-list) blob. Nothing is
 * referenced until the caller writes a snapshot after `flush`.
 */
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { toHex } from '../crypto/blob-id.js';
import type { RepoCache } from '../cache.js';
import { ObjectKind } from '../format.js';
import { type BlobCodec, SEAL_ROOM_BYTES } from '../workers/blob-codec.js';
import { CryptoPool } from '../workers/crypto-pool.js';
import type { FileDigest } from '../workers/small-files.js';
import { BlobWriter, type WriterHost } from './blob-writer.js';
import type { ChunkerParams } from './chunker.js';
import { SlotPool } from './slot-pool.js';
import { freeNow } from '../util/free-now.js';
import { FdReader, mainThreadChunks, workerChunks } from './chunk-sources.js';
import { type SavedStream, saveStream } from './stream-saver.js';

/** What a content writer needs of the open repository (a `Repository` is one), so content/ does not import the layer above. */
export interface ContentWriterHost extends WriterHost {
  readonly config: { readonly chunker: ChunkerParams; readonly compressionLevel: number; readonly packSize: number };
  readonly workerKeys: { dataKey: Uint8Array; idKey: Uint8Array; repoId: Uint8Array };
  /** The keyed gear table of the chunker. */
  readonly gear: Int32Array;
  readonly codec: Pick<BlobCodec, 'seal'>;
  readonly cache: Pick<RepoCache, 'put'>;
  blobId(data: Uint8Array): Uint8Array;
}

export type SmallFileResult = { saved: SavedStream } | { tooLarge: true } | { error: { code: string; message: string } };

export interface ContentWriterOptions {
  /** zstd level for data blobs (default: the repository's). */
  level?: number;
  /** Target pack size (default: the repository's). */
  packSize?: number;
  sealers?: number;
  slots?: number;
  /** Packs uploaded at once (each holds one pack in memory; default 2). */
  uploads?: number;
  indexEveryPacks?: number;
  signal?: AbortSignal;
  onPack?: (pack: { id: string; size: number; blobs: number }) => void;
  /** A pool started earlier (with a hasher, not yet set up), so its threads load while the password is checked. */
  pool?: CryptoPool;
}

/** Starts the worker threads of a backup before the repository is open. */
export function prestartPool(sealers = defaultSealers()): CryptoPool {
  return new CryptoPool({ sealers, hasher: true });
}

function defaultSealers(): number {
  return Math.max(1, Math.min(4, cpus().length));
}

/**
 * Chunk slots: one being cut, one at the hasher, two per sealer (one sealing, one waiting). Each slot
 * ends up touched to the largest chunk it held (runs of zeros make 8 MiB chunks), so slots × max is the
 * budget: 7 × 8 MiB with 2 sealers, as fast as the 10 used before (decision log, docs/architecture.md).
 */
function defaultSlots(sealers: number): number {
  return 3 + 2 * sealers;
}

/** Small files up to this size are compressed and sealed on the main thread. */
const SEAL_HERE_BYTES = 64 * 1024;

/** Trees compress well and are small: a stronger level costs nothing noticeable. */
const TREE_LEVEL = 6;

export class ContentWriter {
  readonly writer: BlobWriter;
  readonly pool: CryptoPool;
  readonly slots: SlotPool;
  readonly level: number;
  /** Bytes read from all streams so far (progress). */
  bytesRead = 0;

  constructor(
    readonly repo: ContentWriterHost,
    readonly options: ContentWriterOptions = {},
  ) {
    this.pool = options.pool ?? new CryptoPool({ sealers: options.sealers ?? defaultSealers(), hasher: true });
    if (!this.pool.hasHasher) throw new Error('a content writer needs a pool with a hashing worker');
    this.slots = new SlotPool(options.slots ?? defaultSlots(this.pool.sealers), repo.config.chunker.max, SEAL_ROOM_BYTES);
    this.pool.setup({ keys: repo.workerKeys, slots: this.slots.buffer, slotBase: this.slots.base, slotBytes: this.slots.slotBytes });
    this.level = options.level ?? repo.config.compressionLevel;
    this.writer = new BlobWriter(repo, {
      packSize: options.packSize ?? repo.config.packSize,
      ...(options.uploads === undefined ? {} : { maxUploads: options.uploads }),
      ...(options.indexEveryPacks === undefined ? {} : { indexEveryPacks: options.indexEveryPacks }),
      ...(options.onPack === undefined ? {} : { onPack: options.onPack }),
    });
  }

  /**
   * Stores a byte stream. `source` is an async iterable (cut on this thread), or a file descriptor
   * (stdin) read and cut by a worker thread: `{ fd }`, or an FdReader started earlier.
   */
  saveStream(source: AsyncIterable<Uint8Array> | { fd: number } | FdReader, onBytes?: (n: number) => void): Promise<SavedStream> {
    const counted = (n: number): void => {
      this.bytesRead += n;
      onBytes?.(n);
    };
    const { gear } = this.repo;
    const params = this.repo.config.chunker;
    const signal = this.options.signal;
    const chunks =
      source instanceof FdReader
        ? workerChunks(source, this.slots, gear, params, counted, signal)
        : 'fd' in source
          ? workerChunks(source.fd, this.slots, gear, params, counted, signal)
          : mainThreadChunks(source, this.slots, gear, params, counted, signal);
    return saveStream(
      { writer: this.writer, pool: this.pool, slots: this.slots, level: this.level, ...(signal === undefined ? {} : { signal }) },
      chunks,
    );
  }

  /**
   * Stores a small file already in memory (at most the chunker's `min`, so it is exactly one chunk)
   * without the chunk slots: hashing a few KiB here costs less than the worker round trips. Sealing
   * stays here up to SEAL_HERE_BYTES, larger ones go to a worker.
   */
  async saveSmall(bytes: Uint8Array): Promise<SavedStream> {
    if (bytes.length > this.repo.config.chunker.min) throw new Error('saveSmall: more than one chunk');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.bytesRead += bytes.length;
    if (bytes.length === 0) return { ids: new Uint8Array(0), chunks: 0, size: 0, sha256, newChunks: 0, newBytes: 0 };
    const id = this.repo.blobId(bytes);
    let newChunks = 0;
    if (this.writer.reserve(id)) {
      const { parts } =
        bytes.length <= SEAL_HERE_BYTES
          ? this.repo.codec.seal(ObjectKind.data, id, bytes, this.level)
          : await this.pool.seal(ObjectKind.data, id, { bytes }, this.level);
      await this.writer.add('data', id, parts, bytes.length);
      newChunks = 1;
    }
    return { ids: Uint8Array.from(id), chunks: 1, size: bytes.length, sha256, newChunks, newBytes: newChunks * bytes.length };
  }

  /**
   * Stores a batch of small files read by path on a sealing worker (each at most `maxBytes`, which must
   * be at most the chunker's `min`: one chunk per file). The worker reads and hashes them; the ones the
   * repository lacks are sealed there too and go into packs here. A file found larger than `maxBytes`
   * is reported `tooLarge` (the caller stores it as a stream); one that cannot be read, `error`.
   */
  async saveSmallFiles(files: readonly { path: string; size: number }[], maxBytes: number): Promise<SmallFileResult[]> {
    if (maxBytes > this.repo.config.chunker.min) throw new Error('saveSmallFiles: files larger than one chunk');
    const { batch, files: digests } = await this.pool.readFiles(
      files.map((f) => f.path),
      files.map((f) => f.size),
      maxBytes,
    );
    const results: SmallFileResult[] = [];
    const toSeal: number[] = [];
    for (let i = 0; i < digests.length; i++) {
      const d = digests[i] as FileDigest;
      if ('error' in d) {
        results.push({ error: d.error });
        continue;
      }
      if ('tooLarge' in d) {
        results.push({ tooLarge: true });
        continue;
      }
      this.bytesRead += d.size;
      const isNew = d.size > 0 && this.writer.reserve(d.id);
      if (isNew) toSeal.push(i);
      results.push({
        saved: { ids: d.size === 0 ? new Uint8Array(0) : d.id, chunks: d.size === 0 ? 0 : 1, size: d.size, sha256: d.sha256, newChunks: isNew ? 1 : 0, newBytes: isNew ? d.size : 0 },
      });
    }
    // Always answered, even with nothing to seal: the worker drops the batch's bytes then.
    const { envelopes, whole } = await this.pool.sealFiles(batch, toSeal, ObjectKind.data, this.level);
    for (let k = 0; k < toSeal.length; k++) {
      const d = digests[toSeal[k] as number] as Extract<FileDigest, { id: Uint8Array }>;
      await this.writer.add('data', d.id, [envelopes[k] as Uint8Array], d.size);
    }
    // Written out (a draft store): nothing reads the batch's envelopes any more; freed now, not at the next collection.
    if (this.writer.writesThrough) freeNow([whole]);
    return results;
  }

  /** Stores a tree or content-list blob (sealed on this thread: they are small); returns its id. */
  async saveTree(bytes: Uint8Array): Promise<string> {
    const id = this.repo.blobId(bytes);
    if (this.writer.reserve(id)) {
      const { parts } = this.repo.codec.seal(ObjectKind.tree, id, bytes, TREE_LEVEL);
      await this.writer.add('tree', id, parts, bytes.length);
      await this.repo.cache.put(`trees/${toHex(id)}`, parts);
    }
    return toHex(id);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  abandon(): Promise<void> {
    return this.writer.abandon();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
