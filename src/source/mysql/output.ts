/**
 * The dump directory: files are written (optionally compressed) and, once closed, reported to an
 * `onClosed` hook, which the stream sender uses to send them in mydumper's stream format.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { transferOf } from '../../bytes/copies.js';
import { type Compression, COMPRESSION_SUFFIX } from '../../container/mydumper-stream/layout.js';
import { SluiceError } from '../../errors.js';
import { BlockPool, type PinnedWorker } from '../../transform/pool/block-pool.js';
import type { CodecResult } from '../../transform/pool/jobs.js';
import { ownedBytes } from '../../transform/pool/owned-bytes.js';

export interface ClosedFile {
  name: string;
  path: string;
  size: number;
}

export interface DumpDirOptions {
  dir: string;
  compress?: Compression;
  /** gzip 1-9 (default 6), zstd 1-19 (default ZSTD_DEFAULT_LEVEL). */
  compressLevel?: number;
  /** zstd: compressor threads, one per dump connection (default 1). */
  compressThreads?: number;
  /** Called once per file after it is closed, in closing order; may wait (backpressure). */
  onClosed?: (file: ClosedFile) => Promise<void>;
}

/** zstd's default level for dumps (the zstd tool's is 3; why 1: the decision log in docs/architecture.md). */
export const ZSTD_DEFAULT_LEVEL = 1;

export class DumpDir {
  readonly dir: string;
  readonly #options: DumpDirOptions;
  /** zstd: the codec threads every file's frame is compressed on, each file pinned to one. */
  readonly #pool: BlockPool | undefined;
  #files = 0;
  #bytes = 0;

  constructor(options: DumpDirOptions) {
    this.dir = options.dir;
    this.#options = options;
    this.#pool = options.compress === 'zstd' ? new BlockPool({ threads: Math.max(1, options.compressThreads ?? 1) }) : undefined;
  }

  /** Stops the compressor threads (every file must be closed). */
  async close(): Promise<void> {
    await this.#pool?.close();
  }

  /** Creates the directory; an existing one must be empty (old files would mix with the new dump). */
  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const existing = await readdir(this.dir);
    if (existing.length > 0) {
      throw new SluiceError('E_OUTPUT_NOT_EMPTY', `output directory ${this.dir} is not empty (${existing.length} entries)`, {
        path: this.dir,
      });
    }
  }

  get files(): number {
    return this.#files;
  }

  /** Bytes written to disk (after compression). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The final name of a file: with the compression suffix, except for `metadata`. */
  finalName(name: string): string {
    const c = this.#options.compress;
    return c === undefined || name === 'metadata' ? name : name + COMPRESSION_SUFFIX[c];
  }

  /** A whole small file (schemas, metadata). */
  async writeWhole(name: string, content: string | Uint8Array): Promise<void> {
    const f = this.open(name);
    const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    f.write(buf, buf.length, () => undefined);
    await f.close();
  }

  /** Writes `metadata` uncompressed (mydumper never compresses it). */
  async writeMetadata(content: string): Promise<void> {
    const path = join(this.dir, 'metadata');
    await writeFile(path, content, { flag: 'wx' });
    const size = (await stat(path)).size;
    this.#files += 1;
    this.#bytes += size;
    await this.#options.onClosed?.({ name: 'metadata', path, size });
  }

  open(name: string): DumpFile {
    return new DumpFile(this, this.finalName(name), this.#options, this.#pool?.pinWorker());
  }

  /** @internal */
  async closed(file: ClosedFile): Promise<void> {
    this.#files += 1;
    this.#bytes += file.size;
    await this.#options.onClosed?.(file);
  }
}

/** Pieces of a zstd file on its compressor thread at once: one compressing, one queued, one being formatted into. */
const ZSTD_WINDOW = 3;

/**
 * One output file. `write` is synchronous and queues; `needDrain`/`drained()` give backpressure;
 * `close()` flushes, closes and reports the file.
 *
 * zstd: every buffer of formatted rows moves (transferred, not copied) to the codec thread this file is
 * pinned to, which feeds it to the file's one compressor (one frame, with a checksum) and sends the buffer
 * back with the compressed bytes; only then is it released for reuse. The main thread never waits for
 * zstd: it goes on formatting the other connections' rows.
 */
export class DumpFile {
  readonly path: string;
  readonly #head: Writable | undefined;
  readonly #file: WriteStream;
  #error: Error | undefined;
  readonly #done: Promise<void>;
  readonly #zstd: PinnedWorker | undefined;
  readonly #level: number;
  /** zstd pieces sent and not yet written to the file. */
  #inFlight = 0;
  /** The last zstd piece's write: pieces are written in order. */
  #tail: Promise<void> = Promise.resolve();
  #wakers: (() => void)[] = [];

  constructor(
    readonly owner: DumpDir,
    readonly name: string,
    options: DumpDirOptions,
    zstd?: PinnedWorker,
  ) {
    this.path = join(owner.dir, name);
    this.#zstd = zstd;
    this.#level = options.compressLevel ?? ZSTD_DEFAULT_LEVEL;
    this.#file = createWriteStream(this.path, { flags: 'wx', highWaterMark: 4 << 20 });
    this.#file.on('error', (err) => this.#fail(err));
    this.#file.on('drain', () => this.#wake());
    if (options.compress === 'gzip') {
      const gz = createGzip({ level: options.compressLevel ?? 6, chunkSize: 256 << 10 });
      gz.on('error', (err) => this.#fail(err));
      gz.on('drain', () => this.#wake());
      gz.pipe(this.#file);
      this.#head = gz;
    } else if (zstd === undefined) {
      this.#head = this.#file;
    }
    this.#done = new Promise<void>((resolve) => {
      this.#file.on('close', () => {
        resolve();
        this.#wake();
      });
    });
  }

  #fail(err: Error): void {
    this.#error ??= new SluiceError('E_WRITE', `writing ${this.path}: ${err.message}`, { path: this.path }, { cause: err });
    this.#wake();
  }

  #wake(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const w of wakers) w();
  }

  /**
   * Queues `buf[0, length)`; `release` is called when the buffer may be reused, with the buffer to reuse
   * when the original moved to another thread and came back as a new object.
   */
  write(buf: Buffer, length: number, release: (returned?: Buffer) => void): void {
    if (this.#error !== undefined) {
      release();
      return;
    }
    if (this.#zstd !== undefined) {
      this.#compress(buf, length, release);
      return;
    }
    (this.#head as Writable).write(length === buf.length ? buf : buf.subarray(0, length), () => release());
  }

  #compress(buf: Buffer, length: number, release: (returned?: Buffer) => void): void {
    // A buffer that owns its memory moves to the thread; any other (a slice of node's pool) is copied.
    const owned = buf.byteOffset === 0 && buf.buffer instanceof ArrayBuffer && buf.buffer.byteLength === buf.length;
    let input: Uint8Array;
    if (owned) input = new Uint8Array(buf.buffer, 0, length);
    else {
      input = ownedBytes(length);
      input.set(buf.subarray(0, length));
      release();
    }
    this.#piece(input, false, owned ? release : undefined);
  }

  /** Sends one piece (or the end of the frame) and queues its output's write behind the pieces before it. */
  #piece(input: Uint8Array | undefined, end: boolean, release: ((returned?: Buffer) => void) | undefined): void {
    const pinned = this.#zstd as PinnedWorker;
    this.#inFlight += 1;
    const job: Promise<CodecResult> = pinned.run(
      { kind: 'zstd-stream-compress', pin: pinned.id, level: this.#level, end, ...(input === undefined ? {} : { input }) },
      input === undefined ? [] : transferOf(input),
    );
    job.catch(() => undefined); // observed in order below
    this.#tail = this.#tail.then(async () => {
      try {
        const r = await job;
        if (release !== undefined) {
          const back = r.recycled;
          release(back === undefined ? undefined : Buffer.from(back.buffer as ArrayBuffer));
        }
        if (this.#error === undefined && r.output.length > 0) {
          this.#file.write(Buffer.from(r.output.buffer, r.output.byteOffset, r.output.length));
        }
      } catch (err) {
        release?.();
        this.#fail(err instanceof Error ? err : new Error(String(err)));
      } finally {
        this.#inFlight -= 1;
        this.#wake();
      }
    });
  }

  get needDrain(): boolean {
    if (this.#zstd !== undefined) return this.#inFlight >= ZSTD_WINDOW || this.#file.writableNeedDrain;
    return (this.#head as Writable).writableNeedDrain;
  }

  drained(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.needDrain || this.#error !== undefined || this.#file.closed) resolve();
        else this.#wakers.push(check);
      };
      check();
    });
  }

  get failed(): Error | undefined {
    return this.#error;
  }

  async close(): Promise<ClosedFile> {
    if (this.#zstd !== undefined) {
      try {
        if (this.#error === undefined) this.#piece(undefined, true, undefined);
        await this.#tail;
      } finally {
        await this.#zstd.close();
      }
      this.#file.end();
    } else {
      (this.#head as Writable).end();
    }
    await this.#done;
    if (this.#error !== undefined) throw this.#error;
    const size = (await stat(this.path)).size;
    const closed = { name: this.name, path: this.path, size };
    await this.owner.closed(closed);
    return closed;
  }
}
