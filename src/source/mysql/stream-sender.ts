/**
 * `dump --stream`: each closed file of the dump directory is sent by one sender, in closing order,
 * as `\n-- NAME SIZE\n` + bytes (or `NAME 0` alone in the NO_STREAM modes), then deleted unless the
 * mode keeps files. Producers wait while more than `maxQueued` files are waiting to be sent, which
 * bounds the disk a slow reader can make us use.
 */
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { type StreamMode, streamModeFlags } from '../../container/mydumper-stream/codec.js';
import { MydumperStreamWriter } from '../../container/mydumper-stream/writer.js';
import type { ClosedFile } from './output.js';

export class StreamSender {
  readonly #writer: MydumperStreamWriter;
  readonly #flags: ReturnType<typeof streamModeFlags>;
  readonly #maxQueued: number;
  readonly #queue: ClosedFile[] = [];
  #running: Promise<void> | undefined;
  #failure: unknown;
  #waiters: (() => void)[] = [];

  constructor(out: Writable, mode: StreamMode, maxQueued = 4) {
    this.#writer = new MydumperStreamWriter(out);
    this.#flags = streamModeFlags(mode);
    this.#maxQueued = maxQueued;
  }

  get bytes(): number {
    return this.#writer.bytes;
  }

  /** Queues a closed file; resolves once the queue is short enough again. Rejects after a send failure. */
  async enqueue(file: ClosedFile): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    this.#queue.push(file);
    this.#running ??= this.#drain();
    while (this.#queue.length > this.#maxQueued && this.#failure === undefined) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Waits until every queued file has been sent. */
  async finish(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
    if (this.#failure !== undefined) throw this.#failure;
    await this.#writer.end();
  }

  async #drain(): Promise<void> {
    try {
      for (;;) {
        const file = this.#queue[0];
        if (file === undefined) break;
        await this.#send(file);
        this.#queue.shift();
        this.#wake();
      }
    } catch (err) {
      this.#failure = err;
      this.#wake();
    } finally {
      this.#running = undefined;
    }
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const fn of w) fn();
  }

  async #send(file: ClosedFile): Promise<void> {
    if (this.#flags.sendContent) {
      await this.#writer.writeFile(file.name, file.size, createReadStream(file.path, { highWaterMark: 1 << 20 }));
    } else {
      await this.#writer.writeHeaderOnly(file.name);
    }
    if (this.#flags.deleteFiles) await unlink(file.path);
  }
}
