/**
 * Gathers consecutive records of an archive (QuickLZ blocks of a .qp file, chunks of an .xbcrypt file)
 * into the input of one codec job, so a worker decodes many small records per round trip.
 */
import { concatBytes } from '../bytes/copies.js';

export class RecordBatch<Job extends { input: Uint8Array }> {
  /** Stream offset of each record in the batch, to name the one a worker reports as bad. */
  readonly offsets: number[] = [];
  #parts: Uint8Array[] = [];
  #bytes = 0;

  /** `first` is the number of the batch's first record in its file (counting from 0). */
  constructor(
    readonly job: Job,
    readonly first: number,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  add(piece: Uint8Array): void {
    this.#parts.push(piece);
    this.#bytes += piece.length;
  }

  /** Joins the gathered bytes into the job's input; the batch is then ready to run. */
  seal(): this {
    this.job.input = concatBytes(this.#parts, this.#bytes);
    this.#parts = [];
    return this;
  }
}
