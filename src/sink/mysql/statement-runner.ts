/**
 * Runs a dump file's statements on a session: every error names the file and the statement number,
 * and a transaction (or autocommit statement) that meets a deadlock or a lock wait timeout is rolled
 * back and replayed from its first statement, a few times (retry.ts), each retry reported as a warning.
 * Rows, bytes and statements are counted into the load's totals, and taken back for work rolled back.
 */
import { SluiceError } from '../../errors.js';
import type { Session } from '../../mysql/connection.js';
import { LoadError, type LoadFile } from './load-options.js';
import type { ReplayableStatements } from './replayable-statements.js';
import { DATA_LOCK_RETRY, type RetryHooks, SCHEMA_LOCK_RETRY, withLockRetry } from './retry.js';
import { isInsert } from './sql-rewrite.js';
import type { Statement, StatementBytes } from './statements.js';

export interface LoadCounters {
  rows: number;
  /** SQL bytes sent. */
  bytes: number;
  statements: number;
}

export interface RunnerContext {
  counters: LoadCounters;
  /** The load's failure, once there is one: no more attempts, and it is the error reported. */
  failure: () => unknown;
  onWarning?: (message: string) => void;
}

export class StatementRunner {
  readonly #ctx: RunnerContext;

  constructor(ctx: RunnerContext) {
    this.#ctx = ctx;
  }

  get #stopped(): boolean {
    return this.#ctx.failure() !== undefined;
  }

  /** A schema statement, retried in place after a lock error (DDL commits on its own). */
  async exec(s: Session, sql: string, file: LoadFile, stmt: Statement): Promise<number> {
    this.#ctx.counters.statements += 1;
    return withLockRetry(
      SCHEMA_LOCK_RETRY,
      async () => {
        try {
          return await s.exec(sql, true);
        } catch (err) {
          throw this.#statementError(err, sql, file, stmt.index);
        }
      },
      { stopped: () => this.#stopped },
    );
  }

  /** One statement on its own (autocommit): a lock error rolled all of it back, so it is simply run again. */
  async statement(s: Session, stmt: StatementBytes, file: LoadFile, insert: boolean): Promise<void> {
    const counters = this.#ctx.counters;
    counters.bytes += stmt.bytes.length + 1;
    await withLockRetry(
      DATA_LOCK_RETRY,
      async () => {
        const rows = await this.#execBytes(s, stmt.bytes, file, stmt.index);
        if (insert) counters.rows += rows;
      },
      this.#lockRetryHooks(file, () => ({ first: stmt.index, at: stmt.index, transaction: false })),
    );
  }

  /**
   * One transaction: the statements from `head` up to `perTrx` inserts or the end of the file. After
   * a lock error it is rolled back and replayed from `head`, read again from the file, so every row
   * goes in exactly once.
   */
  async transaction(s: Session, statements: ReplayableStatements, head: StatementBytes, perTrx: number, file: LoadFile): Promise<void> {
    const counters = this.#ctx.counters;
    const first = head.index;
    let at = first;
    await withLockRetry(
      DATA_LOCK_RETRY,
      async (attempt) => {
        let stmt = attempt === 1 ? head : await statements.rewind(first);
        const undone = { rows: 0, bytes: 0, statements: 0 };
        try {
          await s.exec('START TRANSACTION');
          for (let inserts = 0; ; ) {
            const failure = this.#ctx.failure();
            if (failure !== undefined) throw failure;
            at = stmt.index;
            const insert = isInsert(stmt.bytes);
            counters.bytes += stmt.bytes.length + 1;
            undone.bytes += stmt.bytes.length + 1;
            const rows = await this.#execBytes(s, stmt.bytes, file, stmt.index);
            undone.statements += 1;
            if (insert) {
              counters.rows += rows;
              undone.rows += rows;
              inserts += 1;
              if (inserts >= perTrx) break;
            }
            const next = await statements.next();
            if (next === undefined) break;
            stmt = next;
          }
          await s.exec('COMMIT');
        } catch (err) {
          counters.rows -= undone.rows;
          counters.bytes -= undone.bytes;
          counters.statements -= undone.statements;
          throw err;
        }
      },
      this.#lockRetryHooks(file, () => ({ first, at, transaction: true }), () => s.exec('ROLLBACK')),
    );
  }

  #lockRetryHooks(
    file: LoadFile,
    position: () => { first: number; at: number; transaction: boolean },
    undo?: () => Promise<unknown>,
  ): RetryHooks {
    const what = (p: { first: number; at: number; transaction: boolean }): string =>
      p.transaction ? `the transaction from statement ${p.first}` : 'the statement';
    return {
      ...(undo === undefined ? {} : { undo }),
      stopped: () => this.#stopped,
      onRetry: (e) => {
        const p = position();
        this.#ctx.onWarning?.(
          `${e.kind} loading file "${file.name}" at statement ${p.at}: ${what(p)} was rolled back; ` +
            `replaying it in ${e.delayMs} ms (attempt ${e.failed + 1} of ${e.attempts})`,
        );
      },
      exhausted: (err, kind, attempts) => {
        const p = position();
        return new LoadError(
          'E_LOCK_RETRIES',
          `loading file "${file.name}", statement ${p.at}: ${kind} on all ${attempts} attempts, giving up ` +
            `(${what(p)} was rolled back): ${serverMessage(err)}`,
          { path: file.name },
          { cause: err },
        );
      },
    };
  }

  async #execBytes(s: Session, bytes: Buffer, file: LoadFile, index: number): Promise<number> {
    try {
      const rows = await s.execBytes(bytes);
      this.#ctx.counters.statements += 1;
      return rows;
    } catch (err) {
      throw this.#statementError(err, bytes.toString('latin1', 0, Math.min(bytes.length, 200)), file, index);
    }
  }

  #statementError(err: unknown, sql: string, file: LoadFile, index: number): unknown {
    const failure = this.#ctx.failure();
    if (failure !== undefined) return failure;
    const preview = sql.length > 120 ? `${sql.slice(0, 120)}…` : sql;
    return new LoadError(
      'E_LOAD',
      `loading file "${file.name}", statement ${index}: ${(err as Error).message.replace(/ \(while [\s\S]*\)$/, '')}` +
        ` — ${JSON.stringify(Buffer.from(preview, 'latin1').toString('utf8'))}`,
      { path: file.name },
      { cause: err },
    );
  }
}

/** The server's own words for an error wrapped on its way up. */
function serverMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown };
  while (typeof e.cause === 'object' && e.cause !== null) e = e.cause as { message?: string; cause?: unknown };
  return e.message ?? String(err);
}

/** A reading error of a data file as a LoadError naming it (SluiceErrors already name what they are about). */
export function readingError(err: unknown, file: LoadFile): SluiceError {
  if (err instanceof SluiceError) return err;
  return new LoadError('E_READ', `reading ${file.name}: ${(err as Error).message}`, { path: file.name }, { cause: err });
}
