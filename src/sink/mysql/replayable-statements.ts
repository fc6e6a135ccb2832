/**
 * A data file's statements that can be read again from one already passed, so the loader can replay
 * a transaction without keeping it in memory (a thousand statements of a megabyte each). Going back
 * reads the file again from its start and skips to the statement: that costs a re-read, but only
 * after a deadlock or a lock wait timeout.
 */
import { dataStatements, type StatementBytes } from './statements.js';

/** The file's bytes from its start (decompressed), and how to let go of them early. */
export interface ChunkSource {
  chunks: AsyncIterable<Buffer>;
  close(): void;
}

export class ReplayableStatements {
  readonly #open: () => ChunkSource;
  #source: ChunkSource | undefined;
  #statements: AsyncGenerator<StatementBytes> | undefined;

  constructor(open: () => ChunkSource) {
    this.#open = open;
  }

  /** The next statement, valid until the next call; undefined at the end of the file. */
  async next(): Promise<StatementBytes | undefined> {
    if (this.#statements === undefined) {
      this.#source = this.#open();
      this.#statements = dataStatements(this.#source.chunks);
    }
    const r = await this.#statements.next();
    return r.done === true ? undefined : r.value;
  }

  /** Reads from the start again up to statement `index` (1-based), which it returns; next() continues after it. */
  async rewind(index: number): Promise<StatementBytes> {
    await this.close();
    for (;;) {
      const st = await this.next();
      if (st === undefined) throw new Error(`statement ${index} is no longer in the file (changed while loading?)`);
      if (st.index === index) return st;
    }
  }

  async close(): Promise<void> {
    const statements = this.#statements;
    const source = this.#source;
    this.#statements = undefined;
    this.#source = undefined;
    try {
      await statements?.return(undefined);
    } finally {
      source?.close();
    }
  }
}
