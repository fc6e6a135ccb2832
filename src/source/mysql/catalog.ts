/**
 * What to dump: databases, tables, views and their columns and keys, read from information_schema,
 * filtered by --database, --tables-list and --regex.
 */
import { SluiceError } from '../../errors.js';
import { type Session, quoteIdent, quoteString, text } from '../../mysql/connection.js';
import { KIND_BINARY_STRING, KIND_HEX, KIND_NUMBER, KIND_STRING } from './row-format.js';

/** Never dumped unless named explicitly with --database or --tables-list. */
export const SYSTEM_DATABASES = new Set(['information_schema', 'performance_schema', 'mysql', 'sys']);

const TRANSACTIONAL_ENGINES = new Set(['innodb', 'xtradb', 'rocksdb', 'tokudb', 'ndbcluster', 'sequence']);
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
const NUMBER_TYPES = new Set([...INTEGER_TYPES, 'decimal', 'numeric', 'float', 'double', 'real', 'double precision', 'year']);
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);
const ALWAYS_HEX_TYPES = new Set([
  'bit',
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
]);

export interface ColumnInfo {
  name: string;
  dataType: string;
  generated: boolean;
  invisible: boolean;
  nullable: boolean;
}

export interface TableInfo {
  db: string;
  name: string;
  kind: 'table' | 'view' | 'sequence';
  engine: string;
  transactional: boolean;
  estimatedRows: number;
  dataBytes: number;
  columns: ColumnInfo[];
  /** A single-column integer key (PRIMARY or UNIQUE NOT NULL) the data can be cut by. */
  chunkKey?: string;
}

export interface Catalog {
  databases: string[];
  tables: TableInfo[];
}

export interface CatalogFilter {
  databases?: string[];
  /** `db.table` (or `table` when exactly one database is given). */
  tables?: string[];
  regex?: RegExp;
  noViews?: boolean;
}

export async function readCatalog(session: Session, filter: CatalogFilter): Promise<Catalog> {
  const allDbs = (await session.query<{ Database: unknown }>('SHOW DATABASES')).map((r) => text(r.Database));
  const wantedTables = new Set<string>();
  const namedDbs = new Set<string>(filter.databases ?? []);
  for (const t of filter.tables ?? []) {
    const dot = t.indexOf('.');
    if (dot > 0) {
      namedDbs.add(t.slice(0, dot));
      wantedTables.add(t);
    } else if (filter.databases?.length === 1) {
      wantedTables.add(`${filter.databases[0]}.${t}`);
    } else {
      wantedTables.add(`?.${t}`);
    }
  }
  let dbs: string[];
  if (namedDbs.size > 0) {
    dbs = allDbs.filter((d) => namedDbs.has(d));
    const missing = [...namedDbs].filter((d) => !allDbs.includes(d));
    if (missing.length > 0) throw new SluiceError('E_NOT_FOUND', `database not found: ${missing.join(', ')}`);
  } else {
    dbs = allDbs.filter((d) => !SYSTEM_DATABASES.has(d));
  }
  if (dbs.length === 0) return { databases: [], tables: [] };

  const inList = dbs.map(quoteString).join(',');
  const tableRows = await session.query<Record<string, unknown>>(
    `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS, DATA_LENGTH FROM information_schema.TABLES ` +
      `WHERE TABLE_SCHEMA IN (${inList}) ORDER BY TABLE_SCHEMA, TABLE_NAME`,
  );
  const columnRows = await session.query<Record<string, unknown>>(
    `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, EXTRA, IS_NULLABLE FROM information_schema.COLUMNS ` +
      `WHERE TABLE_SCHEMA IN (${inList}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
  );
  const keyRows = await session.query<Record<string, unknown>>(
    `SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS ` +
      `WHERE TABLE_SCHEMA IN (${inList}) ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
  );

  const columns = new Map<string, ColumnInfo[]>();
  for (const r of columnRows) {
    const key = `${text(r.TABLE_SCHEMA)}.${text(r.TABLE_NAME)}`;
    const extra = text(r.EXTRA).toUpperCase();
    const list = columns.get(key) ?? [];
    list.push({
      name: text(r.COLUMN_NAME),
      dataType: text(r.DATA_TYPE).toLowerCase(),
      generated: /\b(VIRTUAL|STORED|PERSISTENT)\b/.test(extra),
      invisible: /\bINVISIBLE\b/.test(extra),
      nullable: text(r.IS_NULLABLE) === 'YES',
    });
    columns.set(key, list);
  }
  const indexes = new Map<string, Map<string, { unique: boolean; columns: string[] }>>();
  for (const r of keyRows) {
    const key = `${text(r.TABLE_SCHEMA)}.${text(r.TABLE_NAME)}`;
    const byName = indexes.get(key) ?? new Map<string, { unique: boolean; columns: string[] }>();
    const name = text(r.INDEX_NAME);
    const idx = byName.get(name) ?? { unique: String(r.NON_UNIQUE) === '0', columns: [] };
    idx.columns.push(text(r.COLUMN_NAME));
    byName.set(name, idx);
    indexes.set(key, byName);
  }

  const tables: TableInfo[] = [];
  for (const r of tableRows) {
    const db = text(r.TABLE_SCHEMA);
    const name = text(r.TABLE_NAME);
    const type = text(r.TABLE_TYPE).toUpperCase();
    const kind = type === 'VIEW' || type === 'SYSTEM VIEW' ? 'view' : type === 'SEQUENCE' ? 'sequence' : 'table';
    if (kind === 'view' && filter.noViews === true) continue;
    const full = `${db}.${name}`;
    if (wantedTables.size > 0 && !wantedTables.has(full) && !wantedTables.has(`?.${name}`)) continue;
    if (filter.regex !== undefined && !filter.regex.test(full)) continue;
    const engine = text(r.ENGINE);
    const cols = columns.get(full) ?? [];
    const info: TableInfo = {
      db,
      name,
      kind,
      engine,
      transactional: kind !== 'table' || TRANSACTIONAL_ENGINES.has(engine.toLowerCase()),
      estimatedRows: Number(r.TABLE_ROWS ?? 0) || 0,
      dataBytes: Number(r.DATA_LENGTH ?? 0) || 0,
      columns: cols,
    };
    if (kind === 'table') {
      const key = chooseChunkKey(indexes.get(full), cols);
      if (key !== undefined) info.chunkKey = key;
    }
    tables.push(info);
  }
  // With a filter, only databases that keep at least one object (or were named) are dumped.
  const used = new Set(tables.map((t) => t.db));
  const databases =
    filter.regex !== undefined || wantedTables.size > 0
      ? dbs.filter((d) => used.has(d) || (filter.regex === undefined && namedDbs.has(d) && wantedTables.size === 0))
      : dbs;
  return { databases, tables };
}

function chooseChunkKey(
  idx: Map<string, { unique: boolean; columns: string[] }> | undefined,
  cols: ColumnInfo[],
): string | undefined {
  if (idx === undefined) return undefined;
  const isIntNotNull = (c: string): boolean => {
    const col = cols.find((x) => x.name === c);
    return col !== undefined && INTEGER_TYPES.has(col.dataType) && !col.nullable && !col.generated;
  };
  const primary = idx.get('PRIMARY');
  if (primary !== undefined && primary.columns.length === 1 && isIntNotNull(primary.columns[0] as string)) {
    return primary.columns[0];
  }
  for (const [name, i] of idx) {
    if (name !== 'PRIMARY' && i.unique && i.columns.length === 1 && isIntNotNull(i.columns[0] as string)) {
      return i.columns[0];
    }
  }
  return undefined;
}

export interface SelectPlan {
  /** The column list of the SELECT (FLOAT widened to DOUBLE so it round-trips exactly). */
  selectList: string;
  /** The INSERT prefix, with a column list when some columns are generated or invisible. */
  insertPrefix: string;
  kinds: Uint8Array;
  /**
   * Under SET NAMES binary the server reads identifiers byte by byte as if they were latin1, so a
   * table or column name outside ASCII would not be found. Such tables are written under
   * SET NAMES utf8mb4 instead, with every string value marked `_binary` so its bytes stay exact.
   */
  utf8Identifiers: boolean;
}

export function selectPlan(table: TableInfo, options: { hexBlob: boolean; completeInsert: boolean }): SelectPlan {
  const cols = table.columns.filter((c) => !c.generated);
  const kinds = new Uint8Array(cols.length);
  const select: string[] = [];
  cols.forEach((c, i) => {
    const q = quoteIdent(c.name);
    if (NUMBER_TYPES.has(c.dataType)) {
      kinds[i] = KIND_NUMBER;
      // FLOAT's text form has 6 significant digits and does not round-trip; its DOUBLE widening does.
      select.push(c.dataType === 'float' ? `(${q} + 0e0)` : q);
    } else if (ALWAYS_HEX_TYPES.has(c.dataType) || (options.hexBlob && BINARY_TYPES.has(c.dataType))) {
      kinds[i] = KIND_HEX;
      select.push(q);
    } else {
      kinds[i] = KIND_STRING;
      select.push(q);
    }
  });
  const needList = options.completeInsert || cols.length !== table.columns.length || cols.some((c) => c.invisible);
  const insertPrefix = needList
    ? `INSERT INTO ${quoteIdent(table.name)} (${cols.map((c) => quoteIdent(c.name)).join(',')}) VALUES\n`
    : `INSERT INTO ${quoteIdent(table.name)} VALUES\n`;
  const utf8Identifiers = !/^[\x00-\x7f]*$/.test(insertPrefix);
  if (utf8Identifiers) {
    for (let i = 0; i < kinds.length; i++) if (kinds[i] === KIND_STRING) kinds[i] = KIND_BINARY_STRING;
  }
  return { selectList: select.join(','), insertPrefix, kinds, utf8Identifiers };
}
