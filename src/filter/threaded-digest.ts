/**
 * A pass-through digest computed on a worker thread, so hashing a stream runs beside the main thread's
 * work (parsing, CRCs, per-file digests) on another core. Bytes are copied into a few 4 MiB buffers that
 * travel to the worker and back (transferred, never cloned), so no fresh memory is touched per chunk and
 * at most `buffers` × 4 MiB is in flight: when all are with the worker, the stream waits.
 */
import { WorkerChannel } from '../threads/worker-channel.js';
import type { DigestReply, DigestRequest } from './digest-worker.js';

const BUFFER_BYTES = 4 * 1024 * 1024;

export class ThreadedDigest {
  readonly #algorithm: string;
  readonly #buffers: number;
  readonly #free: ArrayBuffer[] = [];
  #waiting: (() => void) | undefined;
  #result: Promise<string> | undefined;
  #bytes = 0;
  #channel: WorkerChannel | undefined;

  /** Nothing starts until the stream is first pulled, so an error before that leaves no thread behind. */
  constructor(algorithm = 'sha256', buffers = 4) {
    this.#algorithm = algorithm;
    this.#buffers = buffers;
  }

  /**
   * The thread: buffers sent to it come back (in order, as events that wake the stream); the digest is
   * the one request. A thread that ends early fails the stream's wait for a buffer and the digest.
   */
  #start(): WorkerChannel {
    for (let i = 0; i < this.#buffers; i++) this.#free.push(new ArrayBuffer(BUFFER_BYTES));
    const channel: WorkerChannel = new WorkerChannel(new URL('./digest-worker.js', import.meta.url), {
      name: 'digest',
      workerData: { algorithm: this.#algorithm },
      onMessage: (message) => {
        const m = message as DigestReply;
        if ('hex' in m) channel.resolve(m.request, m.hex);
        else {
          this.#free.push(m.buffer);
          this.#wake();
        }
      },
      onFailure: () => this.#wake(),
    });
    this.#channel = channel;
    return channel;
  }

  get bytes(): number {
    return this.#bytes;
  }

  readonly filter = async function* (this: ThreadedDigest, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const channel = this.#start();
    let current: Uint8Array | undefined;
    let filled = 0;
    const send = (): void => {
      if (current === undefined || filled === 0) return;
      const buffer = current.buffer as ArrayBuffer;
      channel.post({ buffer, length: filled } satisfies DigestRequest, [buffer]);
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
      this.#result = this.#finish(channel);
    } finally {
      if (this.#result === undefined) void channel.terminate(new Error('the digest was abandoned before the stream ended'));
    }
  }.bind(this);

  /** The digest, once the stream has ended. */
  async hex(): Promise<string> {
    if (this.#result === undefined) throw new Error('digest read before the stream ended');
    return this.#result;
  }

  async #takeBuffer(): Promise<ArrayBuffer> {
    for (;;) {
      const failure = this.#channel?.failure;
      if (failure !== undefined) throw failure;
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

  async #finish(channel: WorkerChannel): Promise<string> {
    try {
      return await channel.call<string>((request) => ({ end: true, request }) satisfies DigestRequest);
    } finally {
      await channel.terminate(new Error('the digest thread was stopped'));
    }
  }
}
