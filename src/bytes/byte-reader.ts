/**
 * A pull reader over an async iterable of byte chunks, for parsers of length-prefixed formats.
 * It assumes nothing about where the producer splits chunks, keeps at most one partial chunk,
 * and knows the stream offset of the next byte so errors can say where they happened.
 */
import { FormatError } from '../errors.js';

export class ByteReader {
  readonly #source: AsyncIterator<Uint8Array>;
  #head: Uint8Array = new Uint8Array(0);
  #headPos = 0;
  #offset = 0;
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>, readonly label = 'input') {
    this.#source = source[Symbol.asyncIterator]();
  }

  /** Stream offset of the next unread byte. */
  get offset(): number {
    return this.#offset;
  }

  async #fill(): Promise<boolean> {
    while (this.#headPos >= this.#head.length) {
      if (this.#done) return false;
      const next = await this.#source.next();
      if (next.done === true) {
        this.#done = true;
        return false;
      }
      this.#head = next.value;
      this.#headPos = 0;
    }
    return true;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /**
   * Up to `max` bytes, at least one, as a view into the producer's chunk (no copy); undefined at the end.
   * The reader never writes into chunks it was given; how long a view stays valid is the producer's
   * contract (forever for most; until it is asked for more for one that recycles blocks, see CountedBlocks).
   */
  async readSome(max: number): Promise<Uint8Array | undefined> {
    if (!(await this.#fill())) return undefined;
    const n = Math.min(max, this.#head.length - this.#headPos);
    const view = this.#head.subarray(this.#headPos, this.#headPos + n);
    this.#headPos += n;
    this.#offset += n;
    return view;
  }

  /**
   * Between 1 and `max` bytes as a view (no copy), for streaming a body of known length; the end of input
   * here is a truncation error naming `what`.
   */
  async readPiece(max: number, what: string): Promise<Uint8Array> {
    const start = this.#offset;
    const piece = await this.readSome(max);
    if (piece === undefined) throw truncated(this.label, what, max, 0, start);
    return piece;
  }

  /**
   * Exactly `n` bytes. Returns undefined only when the input ends before the first byte and
   * `allowEnd` is set; ending part way is a FormatError naming what was being read.
   */
  async readExact(n: number, what: string, allowEnd = false): Promise<Uint8Array | undefined> {
    const start = this.#offset;
    if (n === 0) return new Uint8Array(0);
    if (!(await this.#fill())) {
      if (allowEnd) return undefined;
      throw truncated(this.label, what, n, 0, start);
    }
    const available = this.#head.length - this.#headPos;
    if (available >= n) {
      const view = this.#head.subarray(this.#headPos, this.#headPos + n);
      this.#headPos += n;
      this.#offset += n;
      return view;
    }
    const out = new Uint8Array(n);
    let have = 0;
    while (have < n) {
      const piece = await this.readSome(n - have);
      if (piece === undefined) throw truncated(this.label, what, n, have, start);
      out.set(piece, have);
      have += piece.length;
    }
    return out;
  }

  /**
   * Up to `n` bytes from the current position without consuming them (fewer only at the end of input).
   * Gathers across producer chunks when it must, so keep `n` small.
   */
  async peek(n: number): Promise<Uint8Array> {
    if (!(await this.#fill())) return new Uint8Array(0);
    if (this.#head.length - this.#headPos >= n) return this.#head.subarray(this.#headPos, this.#headPos + n);
    // Copied before asking for more: a producer that recycles its blocks may reuse this one.
    const parts: Uint8Array[] = [new Uint8Array(this.#head.subarray(this.#headPos))];
    let have = parts[0]!.length;
    while (have < n && !this.#done) {
      const next = await this.#source.next();
      if (next.done === true) {
        this.#done = true;
        break;
      }
      parts.push(next.value);
      have += next.value.length;
    }
    this.#head = Buffer.concat(parts);
    this.#headPos = 0;
    return this.#head.subarray(0, Math.min(n, this.#head.length));
  }

  /** Yields exactly `n` bytes in producer-sized pieces, without gathering them. */
  async *stream(n: number, what: string): AsyncGenerator<Uint8Array> {
    const start = this.#offset;
    let left = n;
    while (left > 0) {
      const piece = await this.readSome(left);
      if (piece === undefined) throw truncated(this.label, what, n, n - left, start);
      left -= piece.length;
      yield piece;
    }
  }

  /** Skips `n` bytes. */
  async skip(n: number, what: string): Promise<void> {
    for await (const _ of this.stream(n, what)) {
      // discard
    }
  }

  /** Stops the producer early (for example when a parser fails). */
  async close(): Promise<void> {
    this.#done = true;
    await this.#source.return?.();
  }
}

function truncated(label: string, what: string, wanted: number, got: number, offset: number): FormatError {
  return new FormatError(
    'E_TRUNCATED',
    `${label} is truncated: it ends inside ${what} (needed ${wanted} bytes, got ${got})`,
    { offset },
  );
}
