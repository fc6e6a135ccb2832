/**
 * SHA-256 of a file as an extractor would leave it, computed from its xbstream events: gaps left by
 * sparse chunks or seeks hash as zeros. A seek backwards (MariaDB rewriting part of a file) makes the
 * final content unknowable without the file, so the digest is then reported as unavailable.
 */
import { createHash, type Hash } from 'node:crypto';

const ZERO_BLOCK = Buffer.alloc(1 << 20);

export class FileHasher {
  readonly #hash: Hash = createHash('sha256');
  #position = 0;
  #rewritten = false;

  update(offset: number, data: Uint8Array): void {
    if (this.#rewritten) return;
    if (offset < this.#position) {
      this.#rewritten = true;
      return;
    }
    this.#zeros(offset - this.#position);
    this.#hash.update(data);
    this.#position = offset + data.length;
  }

  /** The final size and digest; `end` may extend the file past its last data (a trailing hole). */
  finish(end: number): { size: number; sha256: string | undefined } {
    const size = Math.max(end, this.#position);
    if (this.#rewritten) return { size, sha256: undefined };
    this.#zeros(size - this.#position);
    return { size, sha256: this.#hash.digest('hex') };
  }

  #zeros(n: number): void {
    for (let left = n; left > 0; left -= ZERO_BLOCK.length) this.#hash.update(ZERO_BLOCK.subarray(0, Math.min(left, ZERO_BLOCK.length)));
    this.#position += n;
  }
}
