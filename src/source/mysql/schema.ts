/**
 * The text of schema files, in mydumper's layout and conventions:
 *  - a statement ends at a line that ends with `;`. Bodies of triggers, routines and events contain
 *    such lines, so (like mydumper) a space is added after a `;` that ends a line inside them,
 *    outside string literals and comments;
 *  - definitions that depend on the session (views, triggers, routines, events) are wrapped in the
 *    character set and SQL mode they were created with, and those are restored afterwards.
 */
import { type Session, quoteIdent, quoteString, text } from '../../mysql/connection.js';
import type { TableInfo } from './catalog.js';

/** For tables with identifiers outside ASCII: string values carry `_binary` instead (see catalog.ts). */
export const DATA_FILE_HEADER_UTF8 =
  "/*!40101 SET NAMES utf8mb4*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n/*!40103 SET TIME_ZONE='+00:00' */;\n" +
  "/*!40101 SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n";

export const DATA_FILE_HEADER =
  "/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n/*!40103 SET TIME_ZONE='+00:00' */;\n" +
  "/*!40101 SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n";

/** Schema text is what SHOW CREATE returned over a utf8mb4 connection, so it is sent back as utf8mb4. */
const SCHEMA_HEADER = "/*!40101 SET NAMES utf8mb4*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n/*!40103 SET TIME_ZONE='+00:00' */;\n";

export async function databaseSchema(session: Session, db: string): Promise<string> {
  const rows = await session.query<Record<string, unknown>>(`SHOW CREATE DATABASE ${quoteIdent(db)}`);
  const create = text(rows[0]?.['Create Database']);
  return `${create};\n`;
}

export async function tableSchema(session: Session, t: TableInfo): Promise<string> {
  const what = t.kind === 'sequence' ? 'SEQUENCE' : 'TABLE';
  const rows = await session.query<Record<string, unknown>>(`SHOW CREATE ${what} ${quoteIdent(t.db)}.${quoteIdent(t.name)}`);
  const row = rows[0] ?? {};
  const create = text(row['Create Table'] ?? row['Create Sequence']);
  return `${SCHEMA_HEADER}${create};\n`;
}

/** A placeholder table with the view's columns, so views that use other views can be created in any order. */
export function viewPlaceholder(t: TableInfo): string {
  const cols = t.columns.map((c) => `${quoteIdent(c.name)} int`).join(',\n');
  return `${SCHEMA_HEADER}CREATE TABLE ${quoteIdent(t.name)}(\n${cols === '' ? '`_` int' : cols}\n)ENGINE=MyISAM;\n`;
}

export async function viewSchema(session: Session, t: TableInfo): Promise<string> {
  // With the view's database current, SHOW CREATE VIEW leaves table references unqualified, so the
  // view can be loaded into a database of another name.
  await session.exec(`USE ${quoteIdent(t.db)}`);
  const rows = await session.query<Record<string, unknown>>(`SHOW CREATE VIEW ${quoteIdent(t.name)}`);
  const row = rows[0] ?? {};
  const create = text(row['Create View']);
  return (
    `${SCHEMA_HEADER}DROP TABLE IF EXISTS ${quoteIdent(t.name)};\nDROP VIEW IF EXISTS ${quoteIdent(t.name)};\n` +
    wrapSession(protectBody(create), {
      charset: text(row.character_set_client),
      collation: text(row.collation_connection),
    })
  );
}

export async function triggersSchema(session: Session, db: string, table: string): Promise<string | undefined> {
  const list = await session.query<Record<string, unknown>>(
    `SHOW TRIGGERS FROM ${quoteIdent(db)} WHERE \`Table\` = ${quoteString(table)}`,
  );
  if (list.length === 0) return undefined;
  let out = SCHEMA_HEADER;
  for (const trg of list) {
    const name = text(trg.Trigger);
    const rows = await session.query<Record<string, unknown>>(`SHOW CREATE TRIGGER ${quoteIdent(db)}.${quoteIdent(name)}`);
    const row = rows[0] ?? {};
    out += `DROP TRIGGER IF EXISTS ${quoteIdent(name)};\n`;
    out += wrapSession(protectBody(text(row['SQL Original Statement'])), {
      charset: text(row.character_set_client),
      collation: text(row.collation_connection),
      sqlMode: text(row.sql_mode),
    });
  }
  return out;
}

/** Routines and/or events of a database: `db-schema-post.sql`. */
export async function postSchema(
  session: Session,
  db: string,
  options: { routines: boolean; events: boolean },
): Promise<string | undefined> {
  let out = '';
  if (options.routines) {
    const routines = await session.query<Record<string, unknown>>(
      `SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${quoteString(db)} ` +
        `AND ROUTINE_TYPE IN ('FUNCTION','PROCEDURE') ORDER BY ROUTINE_TYPE, ROUTINE_NAME`,
    );
    for (const r of routines) {
      const type = text(r.ROUTINE_TYPE).toUpperCase();
      const name = text(r.ROUTINE_NAME);
      const rows = await session.query<Record<string, unknown>>(`SHOW CREATE ${type} ${quoteIdent(db)}.${quoteIdent(name)}`);
      const row = rows[0] ?? {};
      const create = text(row[type === 'FUNCTION' ? 'Create Function' : 'Create Procedure']);
      if (create === '') continue; // no privilege to see the body
      out += `DROP ${type} IF EXISTS ${quoteIdent(name)};\n`;
      out += wrapSession(protectBody(create), {
        charset: text(row.character_set_client),
        collation: text(row.collation_connection),
        sqlMode: text(row.sql_mode),
      });
    }
  }
  if (options.events) {
    const events = await session.query<Record<string, unknown>>(`SHOW EVENTS FROM ${quoteIdent(db)}`);
    for (const e of events) {
      const name = text(e.Name);
      const rows = await session.query<Record<string, unknown>>(`SHOW CREATE EVENT ${quoteIdent(db)}.${quoteIdent(name)}`);
      const row = rows[0] ?? {};
      out += `DROP EVENT IF EXISTS ${quoteIdent(name)};\n`;
      out += wrapSession(protectBody(text(row['Create Event'])), {
        charset: text(row.character_set_client),
        collation: text(row.collation_connection),
        sqlMode: text(row.sql_mode),
        timeZone: text(row.time_zone),
      });
    }
  }
  return out === '' ? undefined : `${SCHEMA_HEADER}${out}`;
}

interface SessionSettings {
  charset: string;
  collation: string;
  sqlMode?: string;
  timeZone?: string;
}

function wrapSession(statement: string, s: SessionSettings): string {
  const lines = [
    'SET @PREV_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT;',
    'SET @PREV_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS;',
    'SET @PREV_COLLATION_CONNECTION=@@COLLATION_CONNECTION;',
  ];
  if (s.sqlMode !== undefined) lines.push('SET @PREV_SQL_MODE=@@SQL_MODE;');
  if (s.timeZone !== undefined) lines.push('SET @PREV_TIME_ZONE=@@TIME_ZONE;');
  if (s.charset !== '') {
    lines.push(`SET character_set_client = ${s.charset};`, `SET character_set_results = ${s.charset};`);
  }
  if (s.collation !== '') lines.push(`SET collation_connection = ${s.collation};`);
  if (s.sqlMode !== undefined) lines.push(`SET SESSION SQL_MODE = ${quoteString(s.sqlMode)};`);
  if (s.timeZone !== undefined && s.timeZone !== '' && s.timeZone !== 'SYSTEM') {
    lines.push(`SET SESSION TIME_ZONE = ${quoteString(s.timeZone)};`);
  }
  lines.push(`${statement};`);
  if (s.sqlMode !== undefined) lines.push('SET SESSION SQL_MODE = @PREV_SQL_MODE;');
  if (s.timeZone !== undefined) lines.push('SET SESSION TIME_ZONE = @PREV_TIME_ZONE;');
  lines.push(
    'SET character_set_client = @PREV_CHARACTER_SET_CLIENT;',
    'SET character_set_results = @PREV_CHARACTER_SET_RESULTS;',
    'SET collation_connection = @PREV_COLLATION_CONNECTION;',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Adds a space after every `;` that ends a line outside string literals, quoted identifiers and
 * comments, so that a line-based splitter (myloader's, and ours) does not end the statement there.
 * Trailing whitespace is dropped from the end of the statement.
 */
export function protectBody(sql: string): string {
  const s = sql.replace(/\s+$/, '');
  let out = '';
  let i = 0;
  let quote: string | undefined;
  while (i < s.length) {
    const c = s[i] as string;
    if (quote !== undefined) {
      out += c;
      if (c === '\\' && quote !== '`') {
        out += s[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === quote) {
        if (s[i + 1] === quote) {
          out += quote;
          i += 2;
          continue;
        }
        quote = undefined;
      }
      i += 1;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      quote = c;
      out += c;
      i += 1;
      continue;
    }
    if (c === '#' || (c === '-' && s[i + 1] === '-' && /[\s]/.test(s[i + 2] ?? '\n'))) {
      const nl = s.indexOf('\n', i);
      const end = nl < 0 ? s.length : nl;
      out += s.slice(i, end);
      i = end;
      continue;
    }
    if (c === '/' && s[i + 1] === '*' && s[i + 2] !== '!') {
      const close = s.indexOf('*/', i + 2);
      const end = close < 0 ? s.length : close + 2;
      out += s.slice(i, end);
      i = end;
      continue;
    }
    if (c === ';' && (s[i + 1] === '\n' || (s[i + 1] === '\r' && s[i + 2] === '\n'))) {
      out += '; ';
      i += 1;
      continue;
    }
    out += c;
    i += 1;
  }
  return out;
}

export interface BinlogPosition {
  file?: string;
  position?: string;
  gtid?: string;
}

export async function readBinlogPosition(session: Session): Promise<BinlogPosition> {
  const pos: BinlogPosition = {};
  for (const sql of ['SHOW MASTER STATUS', 'SHOW BINARY LOG STATUS']) {
    try {
      const rows = await session.query<Record<string, unknown>>(sql);
      const r = rows[0];
      if (r !== undefined) {
        pos.file = text(r.File);
        pos.position = text(r.Position);
        const g = text(r.Executed_Gtid_Set);
        if (g !== '') pos.gtid = g;
      }
      break;
    } catch {
      // try the other spelling
    }
  }
  if (pos.gtid === undefined) {
    try {
      const rows = await session.query<Record<string, unknown>>('SELECT @@GLOBAL.gtid_binlog_pos AS g');
      const g = text(rows[0]?.g);
      if (g !== '') pos.gtid = g;
    } catch {
      // not MariaDB
    }
  }
  return pos;
}

export function formatTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export interface MetadataInput {
  started: Date;
  finished: Date;
  binlog: BinlogPosition;
  consistent: boolean;
  tables: { db: string; table: string; rows: number; isView: boolean }[];
  tool: string;
}

/** mydumper ≥ 0.15-style metadata (an INI file); myloader 0.10 ignores the file. */
export function metadataText(m: MetadataInput): string {
  const lines = [`# Started dump at: ${formatTime(m.started)}`, `# Written by ${m.tool}`, '[config]', 'quote-character = BACKTICK', ''];
  lines.push('[source]');
  if (m.binlog.file !== undefined) lines.push(`File = ${m.binlog.file}`, `Position = ${m.binlog.position ?? ''}`);
  if (m.binlog.gtid !== undefined) lines.push(`Executed_Gtid_Set = ${m.binlog.gtid}`);
  lines.push(`# consistent = ${m.consistent ? 1 : 0}`, '');
  for (const t of m.tables) {
    lines.push(`[${quoteIdent(t.db)}.${quoteIdent(t.table)}]`, `real_table_name = ${t.table}`, `rows = ${t.rows}`);
    if (t.isView) lines.push('is_view = 1');
    lines.push('');
  }
  lines.push(`# Finished dump at: ${formatTime(m.finished)}`, '');
  return lines.join('\n');
}
