/** Small helpers for the transform tests: feeding bytes in arbitrary chunks and gathering output. */
import { SluiceError } from '../../src/errors.js';

/** Yields `bytes` in pieces of `size` (the last shorter); `size` 0 yields it whole. */
export async function* chunks(bytes: Uint8Array, size = 0): AsyncGenerator<Uint8Array> {
  if (size <= 0) {
    if (bytes.length > 0) yield bytes;
    return;
  }
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, Math.min(at + size, bytes.length));
}

/** Yields `bytes` cut at the given offsets (sorted, deduplicated, within range). */
export async function* cutAt(bytes: Uint8Array, offsets: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const o of [...new Set(offsets)].filter((x) => x > 0 && x < bytes.length).sort((a, b) => a - b)) {
    yield bytes.subarray(at, o);
    at = o;
  }
  if (at < bytes.length) yield bytes.subarray(at);
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** Runs `fn` and returns the SluiceError it must throw (fails the test otherwise). */
export async function sluiceError(fn: () => Promise<unknown>): Promise<SluiceError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof SluiceError) return err;
    throw new Error(`expected a SluiceError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
  throw new Error('expected an error, but the call succeeded');
}

/** Text-like bytes that compress well, deterministic. */
export function compressibleBytes(length: number, seed = 1): Buffer {
  const words = ['INSERT', 'INTO', 't1', 'VALUES', '(1,', "'abc'),", 'SELECT', 'FROM', 'WHERE', 'id', '=', '42;', '\n'];
  const out = Buffer.alloc(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  let at = 0;
  while (at < length) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const w = `${words[x % words.length]} `;
    at += out.write(w.slice(0, length - at), at, 'latin1');
    if (x % 5 === 0 && at + 4 <= length) {
      out.writeUInt32LE(x, at);
      at += 4;
    }
  }
  return out;
}
