/** How a stream job tells its caller how far it is: bytes of the stream so far and files done. */

export interface StreamProgress {
  /** Bytes of the stream read (extract, verify) or written (backup, create) so far. */
  bytes: number;
  /** Files finished so far. */
  files: number;
}

/** Counts a job's stream as it passes and tells `onProgress` after each chunk and each file. */
export class StreamCounter implements StreamProgress {
  bytes = 0;
  files = 0;

  constructor(readonly onProgress?: (progress: StreamProgress) => void) {}

  readonly filter = async function* (this: StreamCounter, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.bytes += chunk.length;
      this.onProgress?.({ bytes: this.bytes, files: this.files });
      yield chunk;
    }
  }.bind(this);

  fileDone(): void {
    this.files += 1;
    this.onProgress?.({ bytes: this.bytes, files: this.files });
  }
}
