/** A pass-through stage that hashes every byte it passes on. */
import { createHash, type Hash } from 'node:crypto';

export class StreamDigest {
  readonly #hash: Hash;
  #bytes = 0;
  #hex: string | undefined;

  constructor(readonly algorithm = 'sha256') {
    this.#hash = createHash(algorithm);
  }

  readonly filter = async function* (this: StreamDigest, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.#hash.update(chunk);
      this.#bytes += chunk.length;
      yield chunk;
    }
    this.#hex = this.#hash.digest('hex');
  }.bind(this);

  get bytes(): number {
    return this.#bytes;
  }

  /** The digest, once the stream has ended. */
  get hex(): string {
    if (this.#hex === undefined) throw new Error('digest read before the stream ended');
    return this.#hex;
  }
}
