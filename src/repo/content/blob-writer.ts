/**
 * Turns sealed blobs into packs and index objects, in the order that keeps a repository consistent:
 * a pack is uploaded completely before any index lists it, and index objects are written before the
 * caller writes the snapshot that needs them.
 *
 * Dedup: a blob is skipped when the index (everything committed before this backup started, plus every
 * pack this writer finished) or the set of blobs reserved in unfinished packs has its id.
 *
 * Bounds: where the store takes drafts (a local directory), a pack's blobs are written out as they are
 * added and nothing of a pack stays in memory; otherwise a pack is held until its put. At most
 * `maxUploads` finished packs wait for their upload; a caller adding a blob beyond that waits, which
 * stops the chunker. Index objects are written every `indexEveryPacks` packs or
 * `indexEveryMs`, so a killed backup leaves most of its uploaded packs usable by the next one.
 */
import { toHex } from '../crypto/blob-id.js';
import type { BlobType } from '../format.js';
import type { ObjectDraft, ObjectStore } from '../storage/object-store.js';
import type { BlobIndex } from './blob-index.js';
import type { IndexedPack } from './index-format.js';
import { type FinishedPack, PackBuilder } from './pack-builder.js';

export interface WriterHost {
  readonly store: ObjectStore;
  readonly dataKey: Uint8Array;
  readonly repoId: Uint8Array;
  readonly index: BlobIndex;
  /** Seals and stores an index object; returns its id. */
  writeIndex(packs: readonly IndexedPack[]): Promise<string>;
}

export interface BlobWriterOptions {
  packSize: number;
  maxUploads?: number;
  indexEveryPacks?: number;
  indexEveryMs?: number;
  now?: () => number;
  /** Called after each pack upload (for progress and tests). */
  onPack?: (pack: { id: string; size: number; blobs: number }) => void;
}

export interface WriterStats {
  blobs: number;
  /** Plaintext bytes of the blobs added (all types), and of the data blobs alone. */
  rawBytes: number;
  dataBytes: number;
  storedBytes: number;
  packs: number;
  indexObjects: number;
}

/** A pack being filled, and where its bytes go: a store draft as they come, or one put at the end. */
class OpenPack {
  readonly builder: PackBuilder;
  readonly #draft: Promise<ObjectDraft> | undefined;
  /** The last write queued on the draft (writes must not overlap, and keep the builder's order). */
  #tail: Promise<void> = Promise.resolve();

  constructor(type: BlobType, store: ObjectStore) {
    this.#draft = store.draft?.();
    this.#draft?.catch(() => undefined);
    this.builder = new PackBuilder(type, this.#draft === undefined);
  }

  /** Adds a blob; resolves when its bytes are written (at once when the pack is kept in memory). */
  add(type: BlobType, id: Uint8Array, envelope: readonly Uint8Array[], rawLength: number): Promise<void> {
    this.builder.add(type, id, envelope, rawLength);
    return this.#draft === undefined ? Promise.resolve() : this.#write(envelope);
  }

  #write(parts: readonly Uint8Array[]): Promise<void> {
    const draft = this.#draft as Promise<ObjectDraft>;
    const step = this.#tail.then(async () => (await draft).write(parts));
    this.#tail = step;
    return step;
  }

  async publish(store: ObjectStore, pack: FinishedPack): Promise<void> {
    if (this.#draft === undefined) return store.put(pack.name, pack.parts);
    try {
      await this.#write(pack.parts);
    } catch (err) {
      await this.abort();
      throw err;
    }
    await (await this.#draft).commit(pack.name);
  }

  async abort(): Promise<void> {
    if (this.#draft === undefined) return;
    await this.#tail.catch(() => undefined);
    const draft = await this.#draft.catch(() => undefined);
    await draft?.abort();
  }
}

export class BlobWriter {
  readonly #host: WriterHost;
  readonly #packSize: number;
  readonly #maxUploads: number;
  readonly #indexEveryPacks: number;
  readonly #indexEveryMs: number;
  readonly #now: () => number;
  readonly #onPack: BlobWriterOptions['onPack'];
  readonly #builders = new Map<BlobType, OpenPack>();
  readonly #reserved = new Set<string>();
  readonly #uploads: Promise<void>[] = [];
  #unindexed: IndexedPack[] = [];
  #lastIndexAt: number;
  #indexChain: Promise<void> = Promise.resolve();
  #error: unknown;
  readonly stats: WriterStats = { blobs: 0, rawBytes: 0, dataBytes: 0, storedBytes: 0, packs: 0, indexObjects: 0 };
  readonly indexIds: string[] = [];

  constructor(host: WriterHost, options: BlobWriterOptions) {
    this.#host = host;
    this.#packSize = options.packSize;
    this.#maxUploads = options.maxUploads ?? 2;
    this.#indexEveryPacks = options.indexEveryPacks ?? 8;
    this.#indexEveryMs = options.indexEveryMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#onPack = options.onPack;
    this.#lastIndexAt = this.#now();
  }

  /** True when added blobs go to the store as they come (a draft), so their bytes can be reused once added. */
  get writesThrough(): boolean {
    return this.#host.store.draft !== undefined;
  }

  /** True when the blob is stored or reserved already. */
  isKnown(id: Uint8Array): boolean {
    return this.#host.index.has(id) || this.#reserved.has(toHex(id));
  }

  /** Reserves `id` for a blob the caller is about to add; false when it is known (nothing to store). */
  reserve(id: Uint8Array): boolean {
    if (this.isKnown(id)) return false;
    this.#reserved.add(toHex(id));
    return true;
  }

  /**
   * Adds a sealed blob reserved before; waits when too many packs wait for upload. True when the
   * envelope's bytes were written to the store (the writer holds no reference to them any more).
   */
  async add(type: BlobType, id: Uint8Array, envelope: readonly Uint8Array[], rawLength: number): Promise<boolean> {
    this.#throwIfFailed();
    let open = this.#builders.get(type);
    if (open === undefined) this.#builders.set(type, (open = new OpenPack(type, this.#host.store)));
    const written = open.add(type, id, envelope, rawLength);
    this.stats.blobs += 1;
    this.stats.rawBytes += rawLength;
    if (type === 'data') this.stats.dataBytes += rawLength;
    const full = open.builder.size >= this.#packSize;
    if (full) this.#builders.delete(type);
    try {
      await written;
    } catch (err) {
      this.#error ??= err;
      if (full) await open.abort();
      throw err;
    }
    if (full) await this.#upload(open);
    return !open.builder.keep;
  }

  async #upload(open: OpenPack): Promise<void> {
    const pack = open.builder.finish(this.#host.dataKey, this.#host.repoId);
    const upload = open.publish(this.#host.store, pack).then(
      () => this.#uploaded(pack),
      (err: unknown) => {
        this.#error ??= err;
      },
    );
    this.#uploads.push(upload);
    while (this.#uploads.length > this.#maxUploads) await this.#uploads.shift();
    this.#throwIfFailed();
  }

  #uploaded(pack: FinishedPack): void {
    const index = this.#host.index;
    const number = index.addPack(pack.id, pack.size);
    for (const b of pack.blobs) {
      index.add(b.type, b.id, number, b.offset, b.length, b.rawLength);
      this.#reserved.delete(toHex(b.id));
    }
    this.stats.packs += 1;
    this.stats.storedBytes += pack.size;
    this.#unindexed.push({ id: Buffer.from(pack.id, 'hex'), size: pack.size, blobs: pack.blobs });
    this.#onPack?.({ id: pack.id, size: pack.size, blobs: pack.blobs.length });
    if (this.#unindexed.length >= this.#indexEveryPacks || this.#now() - this.#lastIndexAt >= this.#indexEveryMs) {
      this.#writeIndex();
    }
  }

  #writeIndex(): void {
    const packs = this.#unindexed;
    this.#unindexed = [];
    this.#lastIndexAt = this.#now();
    if (packs.length === 0) return;
    this.#indexChain = this.#indexChain.then(async () => {
      if (this.#error !== undefined) return;
      try {
        this.indexIds.push(await this.#host.writeIndex(packs));
        this.stats.indexObjects += 1;
      } catch (err) {
        this.#error ??= err;
      }
    });
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  /** Uploads the unfinished packs, waits for every upload, and indexes everything. */
  async flush(): Promise<void> {
    this.#throwIfFailed();
    for (const [type, open] of [...this.#builders]) {
      this.#builders.delete(type);
      if (open.builder.count > 0) await this.#upload(open);
      else await open.abort();
    }
    while (this.#uploads.length > 0) await this.#uploads.shift();
    this.#throwIfFailed();
    this.#writeIndex();
    await this.#indexChain;
    this.#throwIfFailed();
  }

  /**
   * After a failure elsewhere (a producer that exited non-zero): drops unfinished packs, waits for the
   * uploads in flight and indexes them, so the next backup can reuse them. Never throws.
   */
  async abandon(): Promise<void> {
    const open = [...this.#builders.values()];
    this.#builders.clear();
    await Promise.allSettled(open.map((p) => p.abort()));
    await Promise.allSettled(this.#uploads);
    this.#uploads.length = 0;
    if (this.#error === undefined) this.#writeIndex();
    await this.#indexChain.catch(() => undefined);
  }
}
