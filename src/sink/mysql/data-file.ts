/**
 * Loading one data file: its statements in transactions of `queriesPerTransaction` inserts (other
 * statements, such as SET, on their own), after the table's first insert has run alone.
 */
import type { TableDumpFile } from '../../container/mydumper-stream/layout.js';
import type { Session } from '../../mysql/connection.js';
import { openDataFile } from './dump-file-reading.js';
import type { LoadFile } from './load-options.js';
import { ReplayableStatements } from './replayable-statements.js';
import { latin1Ident, isInsert } from './sql-rewrite.js';
import { readingError, type StatementRunner } from './statement-runner.js';

/** What the data files of one table share. */
export interface TablePriming {
  /** Resolves once the table has its first rows. */
  primed?: Promise<void>;
}

export interface DataFileTask {
  file: LoadFile;
  info: TableDumpFile;
  /** The database the rows go into (the dump's, or --database). */
  targetDb: string;
  table: TablePriming;
  /** Inserts per transaction; 0: every statement on its own. */
  perTransaction: number;
}

export async function loadDataFile(runner: StatementRunner, s: Session, task: DataFileTask, failure: () => unknown): Promise<void> {
  const { file, table, perTransaction } = task;
  await runner.exec(s, `USE ${latin1Ident(task.targetDb)}`, file, { sql: 'USE', index: 0 });
  const statements = new ReplayableStatements(() => openDataFile(file, task.info.compression));
  try {
    for (let stmt = await statements.next(); stmt !== undefined; stmt = await statements.next()) {
      const failed = failure();
      if (failed !== undefined) throw failed;
      if (!isInsert(stmt.bytes)) {
        await runner.statement(s, stmt, file, false);
        continue;
      }
      if (table.primed === undefined) {
        // MariaDB ≥ 10.6 switches a transaction that starts inserting into an EMPTY table with
        // unique and foreign key checks off into "bulk insert" mode: it locks the whole table
        // until commit (so parallel loaders of one table wait, and can time out) and sorts
        // everything at commit (measured slower here than plain inserts). The first statement
        // of each table therefore runs on its own (autocommit); transactions then find the
        // table non-empty and insert normally, in parallel.
        let release: () => void = () => undefined;
        table.primed = new Promise<void>((resolve) => {
          release = resolve;
        });
        try {
          await runner.statement(s, stmt, file, true);
        } finally {
          release();
        }
        continue;
      }
      await table.primed;
      if (perTransaction > 0) await runner.transaction(s, statements, stmt, perTransaction, file);
      else await runner.statement(s, stmt, file, true);
    }
  } catch (err) {
    throw readingError(err, file);
  } finally {
    await statements.close().catch(() => undefined);
  }
}
