/**
 * Loading the files that create things: a database (renamed with --database), a table's schema (its
 * secondary indexes held back with --defer-indexes, an existing table dropped with --overwrite-tables),
 * and the post-data objects (views, triggers, routines, events).
 */
import type { DatabaseDumpFile, TableDumpFile } from '../../container/mydumper-stream/layout.js';
import type { Session } from '../../mysql/connection.js';
import { readWholeFile } from './dump-file-reading.js';
import { deferSecondaryIndexes } from './indexes.js';
import type { LoadFile } from './load-options.js';
import { dropStatement, latin1Ident, latin1String, renameCreateDatabase, schemaCharset } from './sql-rewrite.js';
import type { StatementRunner } from './statement-runner.js';
import { schemaStatements } from './statements.js';

export async function loadDatabaseFile(runner: StatementRunner, s: Session, file: LoadFile, info: DatabaseDumpFile, targetDb: string): Promise<void> {
  const text = await readWholeFile(file, info.compression);
  for (const st of schemaStatements(text)) await runner.exec(s, renameCreateDatabase(st.sql, targetDb), file, st);
}

export interface TableSchemaOptions {
  overwrite: boolean;
  /** Hold back the secondary indexes: they are returned, to be added once the data is in. */
  deferIndexes: boolean;
}

/** Creates the table; returns the secondary key definitions held back (undefined: none). */
export async function loadTableSchema(
  runner: StatementRunner,
  s: Session,
  file: LoadFile,
  info: TableDumpFile,
  targetDb: string,
  options: TableSchemaOptions,
): Promise<string[] | undefined> {
  const text = await readWholeFile(file, info.compression);
  await runner.exec(s, `USE ${latin1Ident(targetDb)}`, file, { sql: 'USE', index: 0 });
  if (options.overwrite) await dropExisting(runner, s, targetDb, info.table, file);
  let deferred: string[] | undefined;
  for (const stmt of schemaStatements(text)) {
    let sql = schemaCharset(stmt.sql);
    if (options.deferIndexes && /^CREATE\s+TABLE\b/i.test(sql)) {
      const d = deferSecondaryIndexes(sql);
      if (d !== undefined) {
        sql = d.create;
        deferred = d.keys;
      }
    }
    await runner.exec(s, sql, file, stmt);
  }
  return deferred;
}

/** A view, a table's triggers, or a database's routines and events: the file's statements as they are. */
export async function loadPostFile(runner: StatementRunner, s: Session, file: LoadFile, info: DatabaseDumpFile | TableDumpFile, targetDb: string): Promise<void> {
  const text = await readWholeFile(file, info.compression);
  await runner.exec(s, `USE ${latin1Ident(targetDb)}`, file, { sql: 'USE', index: 0 });
  for (const stmt of schemaStatements(text)) await runner.exec(s, stmt.sql, file, stmt);
}

async function dropExisting(runner: StatementRunner, s: Session, db: string, table: string, file: LoadFile): Promise<void> {
  const rows = await s.query<Record<string, unknown>>(
    `SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${latin1String(db)} AND TABLE_NAME = ${latin1String(table)}`,
    undefined,
    true,
  );
  if (rows.length === 0) return;
  const type = Buffer.isBuffer(rows[0]?.TABLE_TYPE) ? (rows[0]?.TABLE_TYPE as Buffer).toString() : String(rows[0]?.TABLE_TYPE);
  await runner.exec(s, dropStatement(type, db, table), file, { sql: 'DROP', index: 0 });
}
