/**
 * Reads files on worker threads with synchronous system calls, into shared blocks of a BufferPool.
 *
 * Reading a tree of small files through node's asynchronous fs costs a thread-pool round trip and promise
 * machinery for each open, read and close, which made a backup of many small files several times slower
 * than mbstream; a worker looping over openSync/readSync/closeSync does not pay it. Each request is one message (open on first use, read, close at the end of the
 * file); blocks are SharedArrayBuffers, so the data is never copied between threads, and they return to
 * the pool when the sink has written them (see BufferPool).
 *
 * With `checksums`, the threads also compute each view's CRC-32 as they read it (see `crcOf`), which the
 * xbstream writer takes instead of checksumming the block again on the main thread.
 *
 * Starting a thread costs more than a small backup takes (about 30 ms of CPU and 12 MiB): with
 * `inlineBytes`, the first reads of a job are done on the calling thread, and threads start only once that
 * many bytes have been read, so a backup of a few small files never starts one.
 */
import type { BufferPool } from '../bytes/buffer-pool.js';
import { WorkerChannel } from '../threads/worker-channel.js';
import { type BatchedFile, type ReaderReply, type ReaderRequest, SyncReads } from './file-reads.js';

/** What answers requests and may hold files open: a reader thread, or the calling thread (InlineReads). */
interface Reads {
  /** Sends a message that has no reply (a close). */
  send(message: ReaderRequest): void;
}

const readError = (error: { message: string }): Error => Object.assign(new Error(error.message), error);

class ReaderThread implements Reads {
  readonly channel: WorkerChannel = new WorkerChannel(new URL('./file-reader-worker.js', import.meta.url), {
    name: 'file reader',
    onMessage: (message) => {
      const reply = message as ReaderReply;
      if ('error' in reply) this.channel.reject(reply.request, readError(reply.error));
      else this.channel.resolve(reply.request, reply);
    },
  });

  /** Sends a request and waits for its reply. */
  request(message: (request: number) => ReaderRequest): Promise<ReaderReply> {
    return this.channel.call(message);
  }

  send(message: ReaderRequest): void {
    if (this.channel.failure === undefined) this.channel.post(message);
  }
}

/** Requests answered at once on the calling thread; a read of anything but a regular file is left to a thread. */
class InlineReads implements Reads {
  readonly #reads = new SyncReads({ regularOnly: true });
  #next = 0;
  /** Bytes read so far. */
  bytes = 0;

  /** The reply, or undefined when a thread must do this read. */
  answer(message: (request: number) => ReaderRequest): Promise<ReaderReply> | undefined {
    const reply = this.#reads.handle(message(this.#next++));
    if (reply === undefined) return undefined;
    if ('error' in reply) return Promise.reject(readError(reply.error));
    this.bytes += 'files' in reply ? reply.files.reduce((sum, f) => sum + (f?.length ?? 0), 0) : reply.bytesRead;
    return Promise.resolve(reply);
  }

  send(message: ReaderRequest): void {
    this.#reads.handle(message);
  }

  close(): void {
    this.#reads.closeAll();
  }
}

export interface FileReaderOptions {
  /** Reader threads; requests go to them in turn, so consecutive blocks of one file are read in parallel. */
  threads?: number;
  /** Blocks requested ahead of the consumer per file (memory: readAhead + 1 blocks per file being read). */
  readAhead?: number;
  /** Bytes read on the calling thread before any reader thread starts (default 0: threads from the first read). */
  inlineBytes?: number;
  /** Compute the CRC-32 of each view while reading it, for `crcOf` (default false). */
  checksums?: boolean;
  /** Batches of small files requested beyond the one being consumed (default 1; see BatchedFiles). */
  batchesAhead?: number;
}

type Read = { block: Buffer; bytesRead: number; eof: boolean; crc: number };

/**
 * The CRC-32 a reader computed for each view it yielded, with the lending of the view's block it holds
 * for (see `FileReader.crcOf`). Keyed by view objects that exist for this alone: each read yields a new
 * view, never a pool block itself, which could come back from the pool to hold other bytes.
 */
const readCrcs = new WeakMap<Uint8Array, { crc: number; lending: object }>();

function rememberCrc(pool: BufferPool, view: Uint8Array, crc: number): void {
  const lending = pool.lending(view);
  if (lending !== undefined) readCrcs.set(view, { crc, lending });
}

export class FileReader {
  /** Started on first use: a worker that has been created keeps the process alive until it is terminated. */
  readonly #threads: (ReaderThread | undefined)[];
  readonly #pool: BufferPool;
  readonly #readAhead: number;
  readonly #inline: InlineReads | undefined;
  readonly #inlineBytes: number;
  readonly #checksums: boolean;
  readonly batchesAhead: number;
  #nextFile = 0;
  #nextThread = 0;

  /** The pool must hand out shared blocks. */
  constructor(pool: BufferPool, options: FileReaderOptions = {}) {
    if (!pool.shared) throw new Error('FileReader needs a BufferPool of shared blocks');
    this.#pool = pool;
    this.#readAhead = Math.max(1, options.readAhead ?? 1);
    this.#threads = Array.from({ length: Math.max(1, options.threads ?? 1) }, () => undefined);
    this.#inlineBytes = options.inlineBytes ?? 0;
    this.#inline = this.#inlineBytes > 0 ? new InlineReads() : undefined;
    this.#checksums = options.checksums === true;
    this.batchesAhead = Math.max(1, options.batchesAhead ?? 1);
  }

  /**
   * The content of a file, read in blocks of the pool's size, `readAhead` blocks ahead of the consumer.
   * `sizeHint` (from a stat, if there was one) sizes the first read so that a file of that size needs a
   * single read.
   */
  async *read(path: string, sizeHint = Number.MAX_SAFE_INTEGER, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    const file = this.#nextFile++;
    const blockBytes = this.#pool.blockBytes;
    /** Readers that may hold this file open (a reader closes it itself when a read reaches the end). */
    const openOn = new Set<Reads>();
    // Up to the hinted size, ask one byte more than is left so the end shows as a short read; a file that
    // grew past its hint is read on in whole blocks.
    const requestAt = (at: number): number => (at >= sizeHint ? blockBytes : Math.min(blockBytes, sizeHint - at + 1));
    const readAt = (at: number, length: number): Promise<Read> => {
      const { thread, block, reply } = this.#request((request, shared) => ({ type: 'read', request, file, path, block: shared, position: at, length, crc: this.#checksums }));
      return reply.then((answer) => {
        const r = answer as { bytesRead: number; eof: boolean; crc: number };
        if (r.eof) openOn.delete(thread);
        else openOn.add(thread);
        return { block, ...r };
      });
    };
    const pending: { length: number; read: Promise<Read> }[] = [];
    let requested = 0;
    let ended = false;
    /** A request shorter than a block expects the end: ask for nothing more until it has answered. */
    let expectingEnd = false;
    /** Until the first block has come back full the file may be small: read ahead only after that. */
    let large = false;
    const requestMore = (): void => {
      while (!ended && !expectingEnd && pending.length < (large ? this.#readAhead : 1)) {
        const length = requestAt(requested);
        const read = readAt(requested, length);
        read.catch(() => undefined); // awaited in order below
        pending.push({ length, read });
        requested += length;
        expectingEnd = length < blockBytes;
      }
    };
    try {
      requestMore();
      while (pending.length > 0) {
        signal?.throwIfAborted();
        const { length, read } = pending.shift() as { length: number; read: Promise<Read> };
        const { block, bytesRead, eof, crc } = await read;
        if (eof || bytesRead < length) ended = true;
        else {
          large = true;
          if (length < blockBytes) expectingEnd = false; // the file grew past its stat: read on
        }
        if (bytesRead === 0) {
          this.#pool.putBack(block);
          continue;
        }
        const view = block.subarray(0, bytesRead); // a view of its own, even of a whole block (see readCrcs)
        this.#pool.lend(block, view);
        if (this.#checksums) rememberCrc(this.#pool, view, crc);
        requestMore();
        yield view;
      }
    } finally {
      for (const { read } of pending.splice(0)) {
        const unread = await read.catch(() => undefined);
        if (unread !== undefined) this.#pool.putBack(unread.block);
      }
      // Every request has been answered: a thread whose read reached the end, or failed, closed the file itself.
      for (const thread of openOn) thread.send({ type: 'close', file });
    }
  }

  /** Whether the threads compute CRCs for `crcOf`. */
  get checksums(): boolean {
    return this.#checksums;
  }

  /**
   * With `checksums`, the CRC-32 of a view this reader yielded, computed by the thread that read it,
   * while its block is still lent for it; otherwise (given back, or another view) undefined. The bytes
   * behind a view can change only once its block is given back to the pool and taken again, so the CRC
   * holds for as long as it is returned, unless a stage writes into a view it was given: only consumers
   * of the reader's own views (no transform in between) may use it.
   */
  readonly crcOf = (view: Uint8Array): number | undefined => {
    const known = readCrcs.get(view);
    return known !== undefined && this.#pool.lending(view) === known.lending ? known.crc : undefined;
  };

  /** The content of many files, most of them read several to a request (see BatchedFiles). */
  batched(paths: string[], signal?: AbortSignal): BatchedFiles {
    return new BatchedFiles(this, this.#pool, paths, signal);
  }

  /** Reads whole files side by side into one block, on one thread, in one request (see readBatch). */
  readBatch(paths: string[]): Promise<{ block: Buffer; files: BatchedFile[] }> {
    const { block, reply } = this.#request((request, shared) => ({ type: 'batch', request, paths, block: shared, crc: this.#checksums }));
    return reply.then((answer) => ({ block, files: (answer as { files: BatchedFile[] }).files }));
  }

  /**
   * Sends a request that fills a pool block: on the calling thread while the inline budget lasts, else to
   * the next thread in turn. A failed request gives the block back.
   */
  #request(message: (request: number, block: SharedArrayBuffer) => ReaderRequest): { thread: Reads; block: Buffer; reply: Promise<ReaderReply> } {
    const block = this.#pool.take();
    const shared = block.buffer as SharedArrayBuffer;
    const release = (err: unknown): never => {
      this.#pool.putBack(block);
      throw err;
    };
    const inline = this.#inline;
    if (inline !== undefined && inline.bytes < this.#inlineBytes) {
      const reply = inline.answer((request) => message(request, shared));
      if (reply !== undefined) return { thread: inline, block, reply: reply.catch(release) };
    }
    const thread = (this.#threads[this.#nextThread++ % this.#threads.length] ??= new ReaderThread());
    return { thread, block, reply: thread.request((request) => message(request, shared)).catch(release) };
  }

  async close(): Promise<void> {
    this.#inline?.close();
    await Promise.all(this.#threads.map((t) => t?.channel.terminate()));
  }
}

/** Files per batch request: one message instead of 32 for a directory of small files. */
const FILES_PER_BATCH = 32;

/**
 * The files of one directory, read 32 to a request: each reply brings whole files side by side in one
 * pool block, so a tree of small files costs one thread round trip per batch rather than per file (a
 * round trip costs as much as reading a mid-sized file: decision log, docs/architecture.md). A batch is requested when
 * the content of one of its files is first wanted, together with the next `batchesAhead` (1 or 2), so
 * at most two or three blocks wait ahead of the consumer. A file the batch left out (too large for what
 * was left of the block, not a regular file, changed, failed) is read on its own, with the usual errors.
 */
export class BatchedFiles {
  readonly #batches: { paths: string[]; views?: Promise<Map<string, Uint8Array>> }[] = [];
  readonly #batchOf = new Map<string, number>();

  constructor(
    readonly reader: FileReader,
    readonly pool: BufferPool,
    paths: string[],
    readonly signal?: AbortSignal,
  ) {
    for (let i = 0; i < paths.length; i += FILES_PER_BATCH) {
      const batch = paths.slice(i, i + FILES_PER_BATCH);
      for (const path of batch) this.#batchOf.set(path, this.#batches.length);
      this.#batches.push({ paths: batch });
    }
  }

  async *content(path: string): AsyncGenerator<Uint8Array> {
    this.signal?.throwIfAborted();
    const index = this.#batchOf.get(path);
    if (index !== undefined) {
      const views = await this.#views(index);
      for (let ahead = 1; ahead <= this.reader.batchesAhead; ahead++) void this.#views(index + ahead);
      const view = views.get(path);
      if (view !== undefined) {
        if (view.length > 0) yield view;
        return;
      }
    }
    yield* this.reader.read(path, undefined, this.signal);
  }

  #views(index: number): Promise<Map<string, Uint8Array>> {
    const batch = this.#batches[index];
    if (batch === undefined) return Promise.resolve(new Map());
    batch.views ??= this.reader.readBatch(batch.paths).then(
      ({ block, files }) => {
        const views = new Map<string, Uint8Array>();
        const lent: Uint8Array[] = [];
        const crcs = new Map<Uint8Array, number>();
        files.forEach((file, i) => {
          if (file === null) return;
          const view = block.subarray(file.offset, file.offset + file.length);
          views.set(batch.paths[i] as string, view);
          if (view.length > 0) {
            lent.push(view);
            if (this.reader.checksums) crcs.set(view, file.crc);
          }
        });
        this.pool.lendViews(block, lent);
        for (const [view, crc] of crcs) rememberCrc(this.pool, view, crc);
        return views;
      },
      () => new Map<string, Uint8Array>(), // every file is then read on its own, and fails there if it must
    );
    return batch.views;
  }
}
