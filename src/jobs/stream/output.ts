/**
 * Where a stream job's bytes go: through the byte filters every writing job shares (throttle, counter,
 * SHA-256 of the exact bytes sent) into the caller's Writable, with its backpressure.
 */
import type { Writable } from 'node:stream';
import type { BufferPool } from '../../bytes/buffer-pool.js';
import { ThreadedDigest } from '../../filter/threaded-digest.js';
import { throttle } from '../../filter/throttle.js';
import { writeAll } from '../../sink/writable.js';

export interface StreamOutput {
  /** Where the stream goes (stdout, a file, a socket). It is not ended: the caller owns it. */
  output: Writable;
  /** Limit the output to this many bytes per second. */
  throttle?: number;
  /** Compute the SHA-256 of the exact bytes written (returned as `sha256`). */
  checksum?: boolean;
  signal?: AbortSignal;
}

export interface SentStream {
  /** Bytes written to the output. */
  bytes: number;
  /** With `checksum`: the SHA-256 of those bytes, in hex. */
  sha256?: string;
}

/** Counts the bytes that pass (a StreamCounter, or a Meter). */
export interface ByteCounter {
  readonly bytes: number;
  filter(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>;
}

export async function sendStream(
  bytes: AsyncIterable<Uint8Array>,
  options: StreamOutput,
  counter: ByteCounter,
  /** The pool the source read into: written chunks go back to it. */
  pool?: BufferPool,
): Promise<SentStream> {
  let stream = bytes;
  if (options.throttle !== undefined) stream = throttle(options.throttle, options.signal === undefined ? {} : { signal: options.signal })(stream);
  stream = counter.filter(stream);
  const digest = options.checksum === true ? new ThreadedDigest('sha256') : undefined;
  if (digest !== undefined) stream = digest.filter(stream);
  await writeAll(stream, options.output, options.signal, pool);
  return digest === undefined ? { bytes: counter.bytes } : { bytes: counter.bytes, sha256: await digest.hex() };
}
