/**
 * The loader's changes to the statements of a dump: the database renamed (--database), table schemas
 * read as utf8mb4, names quoted for a `binary` connection. The text of a file is latin1 (one character
 * per byte), so what is spliced in is made latin1 too.
 */
import { quoteIdent, quoteString } from '../../mysql/connection.js';

/** Names become latin1 strings like the file text (the connection is `binary`: bytes go out as they are). */
export function latin1Ident(name: string): string {
  return Buffer.from(quoteIdent(name), 'utf8').toString('latin1');
}

export function latin1String(value: string): string {
  return Buffer.from(quoteString(value), 'utf8').toString('latin1');
}

/** `CREATE DATABASE x ...` → `CREATE DATABASE IF NOT EXISTS target ...`; other statements unchanged. */
export function renameCreateDatabase(sql: string, target: string): string {
  const m = /^CREATE\s+DATABASE\s+(IF\s+NOT\s+EXISTS\s+)?(`(?:[^`]|``)+`|\S+)/i.exec(sql);
  return m === null ? sql : `CREATE DATABASE IF NOT EXISTS ${latin1Ident(target)}${sql.slice(m[0].length)}`;
}

/**
 * SHOW CREATE TABLE returns UTF-8 text whatever the result character set, but mydumper writes it under
 * SET NAMES binary, which turns a non-ASCII default or comment into mojibake ('é' in a latin1 column
 * becomes 'Ã©'). Table schemas are therefore read as utf8mb4.
 */
export function schemaCharset(sql: string): string {
  return /^(\/\*!\d*\s*)?SET\s+NAMES\s+binary\s*(\*\/)?\s*;?$/i.test(sql) ? 'SET NAMES utf8mb4' : sql;
}

/** The DROP for an existing object of information_schema's TABLE_TYPE. */
export function dropStatement(tableType: string, db: string, table: string): string {
  const what = tableType === 'VIEW' ? 'VIEW' : tableType === 'SEQUENCE' ? 'SEQUENCE' : 'TABLE';
  return `DROP ${what} IF EXISTS ${latin1Ident(db)}.${latin1Ident(table)}`;
}

export function isInsert(bytes: Buffer): boolean {
  return /^\s*(INSERT|REPLACE)\b/i.test(bytes.toString('latin1', 0, Math.min(64, bytes.length)));
}
