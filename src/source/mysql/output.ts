/**
 * The dump directory: files are written (optionally compressed) and, once closed, reported to an
 * `onClosed` hook, which the stream sender uses to send them in mydumper's stream format.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { CompressStream } from 'zstd-napi';
import { type Compression, COMPRESSION_SUFFIX } from '../../container/mydumper-stream/layout.js';
import { SluiceError } from '../../errors.js';

export interface ClosedFile {
  name: string;
  path: string;
  size: number;
}

export interface DumpDirOptions {
  dir: string;
  compress?: Compression;
  /** gzip 1-9 (default 6), zstd 1-19 (default 3). */
  compressLevel?: number;
  /** Called once per file after it is closed, in closing order; may wait (backpressure). */
  onClosed?: (file: ClosedFile) => Promise<void>;
}

export class DumpDir {
  readonly dir: string;
  readonly #options: DumpDirOptions;
  #files = 0;
  #bytes = 0;

  constructor(options: DumpDirOptions) {
    this.dir = options.dir;
    this.#options = options;
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
    return new DumpFile(this, this.finalName(name), this.#options);
  }

  /** @internal */
  async closed(file: ClosedFile): Promise<void> {
    this.#files += 1;
    this.#bytes += file.size;
    await this.#options.onClosed?.(file);
  }
}

/**
 * One output file. `write` is synchronous and queues; `needDrain`/`drained()` give backpressure;
 * `close()` flushes, closes and reports the file.
 */
export class DumpFile {
  readonly path: string;
  readonly #head: Writable;
  readonly #file: WriteStream;
  #error: Error | undefined;
  readonly #done: Promise<void>;

  constructor(
    readonly owner: DumpDir,
    readonly name: string,
    options: DumpDirOptions,
  ) {
    this.path = join(owner.dir, name);
    this.#file = createWriteStream(this.path, { flags: 'wx', highWaterMark: 4 << 20 });
    const onError = (err: Error): void => {
      this.#error ??= new SluiceError('E_WRITE', `writing ${this.path}: ${err.message}`, { path: this.path }, { cause: err });
    };
    this.#file.on('error', onError);
    if (options.compress === 'gzip') {
      const gz = createGzip({ level: options.compressLevel ?? 6, chunkSize: 256 << 10 });
      gz.on('error', onError);
      gz.pipe(this.#file);
      this.#head = gz;
    } else if (options.compress === 'zstd') {
      // zstd compresses on a thread of its own, so the main thread goes on formatting rows: at level 3
      // compression was 80% of the main thread's time (1.3 GB dump: 15.5 s, 10.6 s with it, plain 7.3 s).
      // 1 MiB jobs: the default (4 x the window) held 8 MiB jobs, 229 MiB peak RSS against 147.
      const z = new CompressStream({ compressionLevel: options.compressLevel ?? 3, nbWorkers: 1, jobSize: 1 << 20 });
      z.on('error', onError);
      z.pipe(this.#file);
      this.#head = z;
    } else {
      this.#head = this.#file;
    }
    this.#done = new Promise<void>((resolve) => {
      this.#file.on('close', resolve);
    });
  }

  /** Queues `buf[0, length)`; `release` is called when the buffer may be reused. */
  write(buf: Buffer, length: number, release: () => void): void {
    if (this.#error !== undefined) {
      release();
      return;
    }
    this.#head.write(length === buf.length ? buf : buf.subarray(0, length), () => release());
  }

  get needDrain(): boolean {
    return this.#head.writableNeedDrain;
  }

  drained(): Promise<void> {
    if (!this.#head.writableNeedDrain || this.#error !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#head.off('drain', done);
        this.#file.off('close', done);
        resolve();
      };
      this.#head.on('drain', done);
      this.#file.on('close', done);
    });
  }

  get failed(): Error | undefined {
    return this.#error;
  }

  async close(): Promise<ClosedFile> {
    this.#head.end();
    await this.#done;
    if (this.#error !== undefined) throw this.#error;
    const size = (await stat(this.path)).size;
    const closed = { name: this.name, path: this.path, size };
    await this.owner.closed(closed);
    return closed;
  }
}
