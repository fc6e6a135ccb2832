/**
 * A pass-through digest computed on a worker thread, so hashing a stream runs beside the main thread's
 * work (parsing, CRCs, per-file digests) on another core. Bytes are copied into a few 4 MiB buffers that
 * travel to the worker and back (transferred, never cloned), so no fresh memory is touched per chunk and
 * at most `buffers` × 4 MiB is in flight: when all are with the worker, the stream waits.
 */
import { Worker } from 'node:worker_threads';

const BUFFER_BYTES = 4 * 1024 * 1024;

export class ThreadedDigest {
  readonly #algorithm: string;
  readonly #buffers: number;
  readonly #free: ArrayBuffer[] = [];
  #waiting: (() => void) | undefined;
  #failure: Error | undefined;
  #result: Promise<string> | undefined;
  #bytes = 0;
  #finished = false;

  /** Nothing starts until the stream is first pulled, so an error before that leaves no thread behind. */
  constructor(algorithm = 'sha256', buffers = 4) {
    this.#algorithm = algorithm;
    this.#buffers = buffers;
  }

  #start(): Worker {
    const worker = new Worker(new URL('./digest-thread.js', import.meta.url), { workerData: { algorithm: this.#algorithm } });
    worker.unref();
    for (let i = 0; i < this.#buffers; i++) this.#free.push(new ArrayBuffer(BUFFER_BYTES));
    worker.on('message', (message: { buffer?: ArrayBuffer }) => {
      if (message.buffer === undefined) return;
      this.#free.push(message.buffer);
      this.#wake();
    });
    worker.on('error', (err) => {
      this.#failure ??= err instanceof Error ? err : new Error(String(err));
      this.#wake();
    });
    // a thread that ends before the digest is known must not leave the stream waiting for a buffer
    worker.on('exit', (code) => {
      if (this.#finished) return;
      this.#failure ??= new Error(`the digest thread exited (status ${code}) before the stream ended`);
      this.#wake();
    });
    return worker;
  }

  get bytes(): number {
    return this.#bytes;
  }

  readonly filter = async function* (this: ThreadedDigest, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const worker = this.#start();
    let current: Uint8Array | undefined;
    let filled = 0;
    const send = (): void => {
      if (current === undefined || filled === 0) return;
      worker.postMessage({ buffer: current.buffer, length: filled }, [current.buffer as ArrayBuffer]);
      current = undefined;
      filled = 0;
    };
    try {
      for await (const chunk of source) {
        let at = 0;
        while (at < chunk.length) {
          if (current === undefined) current = new Uint8Array(await this.#takeBuffer());
          const n = Math.min(chunk.length - at, BUFFER_BYTES - filled);
          current.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === BUFFER_BYTES) send();
        }
        this.#bytes += chunk.length;
        yield chunk;
      }
      send();
      this.#result = this.#finish(worker);
    } finally {
      if (this.#result === undefined) void worker.terminate();
    }
  }.bind(this);

  /** The digest, once the stream has ended. */
  async hex(): Promise<string> {
    if (this.#result === undefined) throw new Error('digest read before the stream ended');
    return this.#result;
  }

  async #takeBuffer(): Promise<ArrayBuffer> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const buffer = this.#free.pop();
      if (buffer !== undefined) return buffer;
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
      });
    }
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  async #finish(worker: Worker): Promise<string> {
    worker.ref();
    const hex = new Promise<string>((resolve, reject) => {
      worker.on('message', (message: { hex?: string }) => {
        if (message.hex !== undefined) resolve(message.hex);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the digest thread exited (status ${code}) before giving the digest`)));
    });
    worker.postMessage({ end: true });
    try {
      return await hex;
    } finally {
      this.#finished = true;
      await worker.terminate();
    }
  }
}
