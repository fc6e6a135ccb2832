/**
 * Writes a mydumper stream (files → bytes), one file after another, with backpressure.
 * The writer checks that each file delivers exactly the size its header declared: a file that
 * changed between stat and send would otherwise corrupt every header after it.
 */
import type { Writable } from 'node:stream';
import { SluiceError } from '../../errors.js';
import { encodeHeader } from './codec.js';

export class MydumperStreamWriter {
  #bytes = 0;
  #files = 0;
  #ended = false;
  #failure: Error | undefined;
  readonly #onError = (err: Error): void => {
    this.#failure ??= err;
  };

  constructor(readonly out: Writable) {
    out.on('error', this.#onError);
  }

  /** Bytes written so far, headers included. */
  get bytes(): number {
    return this.#bytes;
  }

  get files(): number {
    return this.#files;
  }

  /** Sends a header and exactly `size` bytes of content. */
  async writeFile(name: string, size: number, content: AsyncIterable<Uint8Array>): Promise<void> {
    this.#checkOpen(name);
    await this.#write(encodeHeader(name, size));
    let sent = 0;
    for await (const piece of content) {
      if (piece.length === 0) continue;
      sent += piece.length;
      if (sent > size) break;
      await this.#write(piece);
    }
    if (sent !== size) {
      throw new SluiceError(
        'E_SIZE_CHANGED',
        `file "${name}" was announced with ${size} bytes but delivered ${sent > size ? 'more' : sent}; the stream is unusable`,
        { path: name },
      );
    }
    this.#files += 1;
  }

  /** Sends `NAME 0` with no content (the NO_STREAM modes: the file itself is in a shared directory). */
  async writeHeaderOnly(name: string): Promise<void> {
    this.#checkOpen(name);
    await this.#write(encodeHeader(name, 0));
    this.#files += 1;
  }

  /** Waits until everything written has been handed to the output. Does not close it (stdout stays open). */
  async end(): Promise<void> {
    this.#ended = true;
    if (this.#failure !== undefined) throw this.#failure;
    const out = this.out;
    if (out.writableNeedDrain) await waitDrain(out);
    this.out.off('error', this.#onError);
  }

  #checkOpen(name: string): void {
    if (this.#ended) throw new Error(`stream writer already ended (file ${name})`);
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    this.#bytes += bytes.length;
    if (!this.out.write(bytes)) await waitDrain(this.out);
    if (this.#failure !== undefined) throw this.#failure;
  }
}

/** Resolves on 'drain', rejects on 'error' or 'close' (a reader that went away must not hang us). */
function waitDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      const err = new Error('output closed before the stream was complete') as NodeJS.ErrnoException;
      err.code = 'EPIPE';
      reject(err);
    };
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}


