/**
 * The main thread's side of the crypto workers: one hasher (stream digests and chunk ids, in order) and
 * a few sealers (compress + seal, open + verify). Each call returns a promise; callers bound how many
 * are in flight (the chunk slots do that for backups, the read-ahead window for restores).
 */
import { FormatError, IntegrityError, SluiceError } from '../../errors.js';
import { WorkerChannel } from '../../threads/worker-channel.js';
import type { ObjectKind } from '../format.js';
import type { Envelope, Reply, Request, Response, SetupMessage, WorkerError, WorkerKeys, WorkerSetup } from './protocol.js';
import { isTransferable } from './protocol.js';
import type { FileDigest } from './small-files.js';

const WORKER_URL = new URL('./crypto-worker.js', import.meta.url);

class WorkerHandle {
  readonly #channel = new WorkerChannel(WORKER_URL, {
    name: 'crypto worker',
    onMessage: (message) => {
      const response = message as Response;
      if (response.ok) this.#channel.resolve(response.seq, response.reply);
      else this.#channel.reject(response.seq, rebuildError(response.error));
    },
  });

  get load(): number {
    return this.#channel.waiting;
  }

  setup(setup: WorkerSetup): void {
    const message: SetupMessage = { setup };
    this.#channel.post(message);
  }

  call(request: Request, transfer: ArrayBuffer[] = []): Promise<Reply> {
    return this.#channel.call<Reply>((seq) => ({ seq, request }) satisfies Envelope, transfer);
  }

  async terminate(): Promise<void> {
    await this.#channel.terminate(new Error('the crypto worker was stopped'));
  }
}

function rebuildError(e: WorkerError): Error {
  const where = e.object === undefined ? {} : { object: e.object };
  if (e.name === 'IntegrityError') return new IntegrityError(e.code, e.detail, where);
  if (e.name === 'FormatError') return new FormatError(e.code, e.detail, where);
  return new SluiceError(e.code, e.detail, where);
}

/** A batch of small files held by one worker between `readFiles` and `sealFiles`. */
export interface FileBatch {
  readonly worker: unknown;
  readonly id: number;
}

export interface PoolSetup {
  keys: WorkerKeys;
  slots?: SharedArrayBuffer;
  slotBase?: number;
  slotBytes?: number;
}

export interface PoolOptions {
  /** Keys and slots; without them now, call `setup` before the first request (the threads start meanwhile). */
  setup?: PoolSetup;
  /** Sealing/opening workers (default 2). */
  sealers?: number;
  /** Start the ordered hashing worker (backups need it; restores do not). */
  hasher?: boolean;
}

export class CryptoPool {
  readonly #hasher: WorkerHandle | undefined;
  readonly #sealers: WorkerHandle[];
  #next = 0;
  #stream = 0;
  #batches = 0;

  constructor(options: PoolOptions) {
    this.#hasher = options.hasher === true ? new WorkerHandle() : undefined;
    this.#sealers = Array.from({ length: Math.max(1, options.sealers ?? 2) }, () => new WorkerHandle());
    if (options.setup !== undefined) this.setup(options.setup);
  }

  get hasHasher(): boolean {
    return this.#hasher !== undefined;
  }

  /** Hands keys and slots to every worker (messages are ordered: they arrive before any later request). */
  setup(setup: PoolSetup): void {
    const message: WorkerSetup = {
      keys: setup.keys,
      slotBase: setup.slotBase ?? 0,
      slotBytes: setup.slotBytes ?? 0,
      ...(setup.slots === undefined ? {} : { slots: setup.slots }),
    };
    for (const w of [...this.#sealers, ...(this.#hasher === undefined ? [] : [this.#hasher])]) w.setup(message);
  }

  get sealers(): number {
    return this.#sealers.length;
  }

  newStream(): number {
    return ++this.#stream;
  }

  /**
   * Feeds the chunk in `slot` to `stream`'s SHA-256 (in call order) and returns its keyed id (both on
   * the hashing worker).
   */
  async hash(slot: number, length: number, stream: number): Promise<Uint8Array> {
    const reply = await this.#hashWorker().call({ op: 'hash', slot, length, stream });
    return (reply as Extract<Reply, { op: 'hash' }>).id;
  }

  /** SHA-256 and length of everything hashed for `stream`; ends the stream. */
  async digest(stream: number): Promise<{ sha256: string; bytes: number }> {
    const reply = (await this.#hashWorker().call({ op: 'digest', stream })) as Extract<Reply, { op: 'digest' }>;
    return { sha256: reply.sha256, bytes: reply.bytes };
  }

  /** Compresses and seals a chunk held in a slot, or given bytes. */
  async seal(
    kind: ObjectKind,
    id: Uint8Array,
    source: { slot: number; length: number } | { bytes: Uint8Array },
    level: number,
  ): Promise<{ parts: Uint8Array[]; compressed: boolean }> {
    const request: Request =
      'bytes' in source
        ? { op: 'seal', kind, id, slot: -1, length: source.bytes.length, bytes: source.bytes, level }
        : { op: 'seal', kind, id, slot: source.slot, length: source.length, level };
    const reply = (await this.#sealer().call(request)) as Extract<Reply, { op: 'seal' }>;
    return { parts: reply.parts, compressed: reply.compressed };
  }

  /**
   * Compresses and seals the chunk in `slot`, writing the envelope over it in the slot; returns the
   * envelope's length (the slot must have room for it: SEAL_ROOM_BYTES more than the chunk).
   */
  async sealSlot(kind: ObjectKind, id: Uint8Array, slot: number, length: number, level: number): Promise<{ length: number; compressed: boolean }> {
    const reply = (await this.#sealer().call({ op: 'sealSlot', kind, id, slot, length, level })) as Extract<Reply, { op: 'sealSlot' }>;
    return { length: reply.length, compressed: reply.compressed };
  }

  /**
   * Reads and hashes a batch of small files on one sealing worker (at most `maxBytes` each), which keeps
   * their bytes for `sealFiles` (call it once per batch, with no indices to just drop the batch).
   */
  async readFiles(paths: string[], sizes: number[], maxBytes: number): Promise<{ batch: FileBatch; files: FileDigest[] }> {
    const worker = this.#sealer();
    const batch = { worker, id: ++this.#batches };
    const reply = (await worker.call({ op: 'readFiles', batch: batch.id, paths, sizes, maxBytes })) as Extract<Reply, { op: 'readFiles' }>;
    return { batch, files: reply.files };
  }

  /**
   * Seals files `indices` of a batch read by `readFiles`; returns each one's envelope, views of one
   * buffer (`whole`) that is the caller's alone.
   */
  async sealFiles(batch: FileBatch, indices: number[], kind: ObjectKind, level: number): Promise<{ envelopes: Uint8Array[]; whole: Uint8Array }> {
    const reply = (await (batch.worker as WorkerHandle).call({ op: 'sealFiles', batch: batch.id, indices, kind, level })) as Extract<Reply, { op: 'sealFiles' }>;
    const envelopes: Uint8Array[] = [];
    let at = 0;
    for (const length of reply.lengths) {
      envelopes.push(reply.envelopes.subarray(at, at + length));
      at += length;
    }
    return { envelopes, whole: reply.envelopes };
  }

  /** Opens, decompresses and verifies a blob; the envelope's buffer is moved to the worker when possible. */
  async open(kind: ObjectKind, id: Uint8Array, envelope: Uint8Array, rawLength: number, object: string): Promise<Uint8Array> {
    const transfer = isTransferable(envelope) && envelope.byteLength === envelope.buffer.byteLength ? [envelope.buffer as ArrayBuffer] : [];
    const reply = (await this.#sealer().call({ op: 'open', kind, id, envelope, rawLength, object }, transfer)) as Extract<Reply, { op: 'open' }>;
    return reply.data;
  }

  #hashWorker(): WorkerHandle {
    if (this.#hasher === undefined) throw new Error('this pool has no hashing worker');
    return this.#hasher;
  }

  #sealer(): WorkerHandle {
    let best = this.#sealers[this.#next % this.#sealers.length] as WorkerHandle;
    for (const w of this.#sealers) if (w.load < best.load) best = w;
    this.#next += 1;
    return best;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#sealers, ...(this.#hasher === undefined ? [] : [this.#hasher])].map((w) => w.terminate()));
  }
}
