/** Counts bytes and files as they pass, for progress displays and summaries. */
export class Meter {
  bytes = 0;
  files = 0;
  readonly startedAt: number;

  constructor(readonly now: () => number = () => performance.now()) {
    this.startedAt = now();
  }

  readonly filter = async function* (this: Meter, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.bytes += chunk.length;
      yield chunk;
    }
  }.bind(this);

  /** Seconds since the meter started. */
  get elapsed(): number {
    return (this.now() - this.startedAt) / 1000;
  }

  get rate(): number {
    const s = this.elapsed;
    return s > 0 ? this.bytes / s : 0;
  }
}
