/**
 * An open repository: the store, the unlocked master key, the config, the blob index and the cache.
 * Reads and writes of sealed objects and blobs go through here; higher layers (snapshots, check, prune)
 * never see keys or envelopes.
 */
import { randomBytes } from 'node:crypto';
import { ExitCode, FormatError, IntegrityError, SluiceError } from '../errors.js';
import { RepoCache } from './cache.js';
import { decodeConfig, encodeConfig, newConfig, type RepoConfig } from './config.js';
import { BlobIndex, type BlobLocation } from './content/blob-index.js';
import { gearTable } from './content/chunker.js';
import { decodeIndex, encodeIndex, type IndexedPack } from './content/index-format.js';
import { contentHash, toHex } from './crypto/blob-id.js';
import { associatedData, open, seal } from './crypto/envelope.js';
import { type MasterKey, newMasterKey } from './crypto/master-key.js';
import { type BlobType, idFromName, Limits, Names, ObjectKind } from './format.js';
import { addKey, type ScryptParams, unlock } from './keys.js';
import type { ObjectStore } from './storage/object-store.js';
import { forEachLimit } from './util/parallel.js';
import { BlobCodec } from './workers/blob-codec.js';

export class RepositoryMissingError extends SluiceError {
  constructor(location: string) {
    super('E_NO_REPOSITORY', `no repository at ${location} (run \`sluice init\` first)`, {}, { exitCode: ExitCode.repositoryMissing });
  }
}

export class RepositoryExistsError extends SluiceError {
  constructor(location: string) {
    super('E_REPOSITORY_EXISTS', `a repository already exists at ${location}`);
  }
}

export interface ClientInfo {
  host: string;
  user: string;
  now: () => Date;
  /** Local cache directory (undefined: no cache). */
  cacheDir?: string;
}

export interface InitOptions extends ClientInfo {
  kdf?: ScryptParams;
  compressionLevel?: number;
  packSize?: number;
  chunker?: RepoConfig['chunker'];
  random?: (n: number) => Buffer;
}

export interface OpenOptions extends ClientInfo {
  keyHint?: string;
}

const KIND_OF_TYPE: Record<BlobType, typeof ObjectKind.data | typeof ObjectKind.tree> = { data: ObjectKind.data, tree: ObjectKind.tree };

export class Repository {
  readonly index = new BlobIndex();
  /** Names of the index objects loaded into `index`. */
  readonly indexNames = new Set<string>();
  readonly codec: BlobCodec;
  readonly cache: RepoCache;
  readonly gear: Int32Array;
  #indexLoaded = false;

  private constructor(
    readonly store: ObjectStore,
    readonly config: RepoConfig,
    readonly master: MasterKey,
    readonly keyId: string,
    readonly client: ClientInfo,
  ) {
    this.codec = new BlobCodec(master.dataKey, master.idKey, config.id);
    this.cache = new RepoCache(client.cacheDir, toHex(config.id));
    this.gear = gearTable(master.chunkerKey);
  }

  get id(): string {
    return toHex(this.config.id);
  }

  get dataKey(): Uint8Array {
    return this.master.dataKey;
  }

  get repoId(): Uint8Array {
    return this.config.id;
  }

  /** What the crypto workers need. */
  get workerKeys(): { dataKey: Uint8Array; idKey: Uint8Array; repoId: Uint8Array } {
    return { dataKey: this.master.dataKey, idKey: this.master.idKey, repoId: this.config.id };
  }

  static async exists(store: ObjectStore): Promise<boolean> {
    return (await store.stat(Names.config)) !== undefined;
  }

  static async init(store: ObjectStore, passphrase: string, opts: InitOptions): Promise<Repository> {
    if (await Repository.exists(store)) throw new RepositoryExistsError(store.location);
    const random = opts.random ?? randomBytes;
    const master = newMasterKey(random);
    const config = newConfig(random(32), opts.now(), {
      ...(opts.chunker === undefined ? {} : { chunker: opts.chunker }),
      ...(opts.compressionLevel === undefined ? {} : { compressionLevel: opts.compressionLevel }),
      ...(opts.packSize === undefined ? {} : { packSize: opts.packSize }),
    });
    const keyId = await addKey(store, master, passphrase, {
      host: opts.host,
      user: opts.user,
      now: opts.now(),
      random,
      ...(opts.kdf === undefined ? {} : { kdf: opts.kdf }),
    });
    // The config is written last: a repository without it does not exist yet.
    await store.put(Names.config, seal(master.dataKey, associatedData(undefined, ObjectKind.config), encodeConfig(config)));
    return new Repository(store, config, master, keyId, opts);
  }

  static async open(store: ObjectStore, passphrase: string, opts: OpenOptions): Promise<Repository> {
    const configInfo = await store.stat(Names.config);
    if (configInfo === undefined) throw new RepositoryMissingError(store.location);
    if (configInfo.size > Limits.smallObjectBytes) {
      throw new FormatError('E_BAD_CONFIG', `config object is ${configInfo.size} bytes`, { object: Names.config });
    }
    const { master, keyId } = await unlock(store, passphrase, opts.keyHint);
    const sealed = await store.get(Names.config);
    const config = decodeConfig(open(master.dataKey, associatedData(undefined, ObjectKind.config), sealed, { object: Names.config }, 'config object'));
    return new Repository(store, config, master, keyId, opts);
  }

  // ---- sealed objects (index, snapshot, lock) ----

  seal(kind: ObjectKind, plain: Uint8Array): Buffer {
    return seal(this.master.dataKey, associatedData(this.config.id, kind), plain);
  }

  open(kind: ObjectKind, sealed: Uint8Array, object: string, what: string): Buffer {
    return open(this.master.dataKey, associatedData(this.config.id, kind), sealed, { object }, what);
  }

  /** Seals and stores an object named by the BLAKE3 of its sealed bytes; returns the id. */
  async writeObject(kind: ObjectKind, nameOf: (id: string) => string, plain: Uint8Array): Promise<string> {
    const sealed = this.seal(kind, plain);
    const id = contentHash(sealed);
    await this.store.put(nameOf(id), sealed);
    if (kind === ObjectKind.index || kind === ObjectKind.snapshot) await this.cache.put(nameOf(id), sealed);
    return id;
  }

  /**
   * Reads a content-named object (from the cache when it has a good copy), checks its size cap and its
   * name against its hash, and opens it.
   */
  async readObject(kind: ObjectKind, name: string, id: string, maxBytes: number, what: string): Promise<Buffer> {
    const cached = await this.cache.get(name);
    if (cached !== undefined) {
      if (cached.length <= maxBytes && contentHash(cached) === id) return this.open(kind, cached, name, what);
      await this.cache.drop(name);
    }
    const info = await this.store.stat(name);
    if (info !== undefined && info.size > maxBytes) {
      throw new FormatError('E_OBJECT_TOO_LARGE', `${what} is ${info.size} bytes, more than the ${maxBytes} allowed`, { object: name });
    }
    const sealed = await this.store.get(name);
    if (contentHash(sealed) !== id) {
      throw new IntegrityError('E_OBJECT_HASH', `${what} does not match its name (corrupted)`, { object: name });
    }
    const plain = this.open(kind, sealed, name, what);
    await this.cache.put(name, sealed);
    return plain;
  }

  // ---- index ----

  async writeIndex(packs: readonly IndexedPack[]): Promise<string> {
    const id = await this.writeObject(ObjectKind.index, Names.index, encodeIndex(packs));
    this.indexNames.add(Names.index(id));
    return id;
  }

  /** Lists and loads every index object into `index` (once). */
  async loadIndex(): Promise<void> {
    if (this.#indexLoaded) return;
    const names: string[] = [];
    for await (const info of this.store.list(Names.indexPrefix)) {
      if (idFromName(info.name, Names.indexPrefix) !== undefined) names.push(info.name);
    }
    await forEachLimit(names, 8, async (name) => {
      await this.loadIndexObject(name);
    });
    await this.cache.retainOnly('index/', new Set(names));
    this.#indexLoaded = true;
  }

  async loadIndexObject(name: string): Promise<void> {
    if (this.indexNames.has(name)) return;
    const id = idFromName(name, Names.indexPrefix) as string;
    const plain = await this.readObject(ObjectKind.index, name, id, Limits.indexObjectBytes, 'index object');
    decodeIndex(plain, name, (pack) => {
      const number = this.index.addPack(toHex(pack.id), pack.size);
      for (const b of pack.blobs) this.index.add(b.type, b.id, number, b.offset, b.length, b.rawLength);
    });
    this.indexNames.add(name);
  }

  /** Reads every index object again, pack by pack (for check and prune: duplicates included). */
  async forEachIndexedPack(fn: (pack: IndexedPack, indexName: string) => void): Promise<string[]> {
    const names: string[] = [];
    for await (const info of this.store.list(Names.indexPrefix)) {
      if (idFromName(info.name, Names.indexPrefix) !== undefined) names.push(info.name);
    }
    names.sort();
    for (const name of names) {
      const plain = await this.readObject(ObjectKind.index, name, idFromName(name, Names.indexPrefix) as string, Limits.indexObjectBytes, 'index object');
      decodeIndex(plain, name, (pack) => fn(pack, name));
    }
    return names;
  }

  // ---- blobs ----

  lookup(id: Uint8Array): BlobLocation | undefined {
    return this.index.lookup(id);
  }

  /** Reads one sealed blob's bytes from its pack, refusing a short read. */
  async readEnvelope(id: Uint8Array, location: BlobLocation): Promise<Uint8Array> {
    const name = Names.pack(location.packId);
    const bytes = await this.store.get(name, { offset: location.offset, length: location.length });
    if (bytes.length !== location.length) {
      throw new IntegrityError('E_SHORT_READ', `read ${bytes.length} of ${location.length} bytes of blob ${toHex(id)}`, { object: name, offset: location.offset });
    }
    return bytes;
  }

  /** Reads, opens and verifies one blob on this thread (tree blobs and small reads; data goes through the pool). */
  async readBlob(id: Uint8Array, type?: BlobType): Promise<Uint8Array> {
    const location = this.index.lookup(id);
    if (location === undefined) {
      throw new SluiceError('E_BLOB_MISSING', `blob ${toHex(id)} is not in the index (repository damaged, or prune removed it)`, {});
    }
    if (type !== undefined && location.type !== type) {
      throw new IntegrityError('E_BLOB_TYPE', `blob ${toHex(id)} is a ${location.type} blob, expected ${type}`, { object: Names.pack(location.packId) });
    }
    const where = { object: Names.pack(location.packId), offset: location.offset };
    const cacheName = location.type === 'tree' ? `trees/${toHex(id)}` : undefined;
    if (cacheName !== undefined) {
      const cached = await this.cache.get(cacheName);
      if (cached !== undefined) {
        try {
          return this.codec.open(KIND_OF_TYPE[location.type], id, cached, location.rawLength, where);
        } catch {
          await this.cache.drop(cacheName);
        }
      }
    }
    const envelope = await this.readEnvelope(id, location);
    const data = this.codec.open(KIND_OF_TYPE[location.type], id, envelope, location.rawLength, where);
    if (cacheName !== undefined) await this.cache.put(cacheName, envelope);
    return data;
  }

  /** Keyed id of bytes (main thread). */
  blobId(data: Uint8Array): Uint8Array {
    return this.codec.idOf(data);
  }

  /** Adds a passphrase (a new key file); returns its id. */
  addKey(passphrase: string, kdf?: ScryptParams): Promise<string> {
    return addKey(this.store, this.master, passphrase, {
      host: this.client.host,
      user: this.client.user,
      now: this.client.now(),
      ...(kdf === undefined ? {} : { kdf }),
    });
  }
}

export { KIND_OF_TYPE };
