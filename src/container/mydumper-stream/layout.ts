/**
 * mydumper's directory layout: which file holds what, from its name alone. Shared by the dumper
 * (which names files) and the loader (which classifies them, from a directory or a stream).
 *
 *   metadata                         dump metadata (sent last in a stream)
 *   db-schema-create.sql             CREATE DATABASE
 *   db-schema-post.sql               routines and events
 *   db.t-schema.sql                  CREATE TABLE (or a view's placeholder table)
 *   db.t-schema-view.sql             CREATE VIEW
 *   db.t-schema-triggers.sql         triggers of table t
 *   db.t-schema-sequence.sql         CREATE SEQUENCE (mydumper ≥ 0.12)
 *   db.t.sql, db.t.00000.sql, db.t.00000.00001.sql   data (INSERT statements)
 * each optionally followed by .gz or .zst.
 *
 * Names of databases and tables are written with `@XXXX` escapes (4 hex digits of the UTF-16 code
 * unit) for every character outside [A-Za-z0-9_$] and ASCII, so that `.` and `-` in a file name are
 * always separators and a file name never holds `/`. mydumper 0.10.1 writes names raw; decoding
 * leaves those unchanged when they contain no `@`.
 */

export type Compression = 'gzip' | 'zstd';

export const COMPRESSION_SUFFIX: Record<Compression, string> = { gzip: '.gz', zstd: '.zst' };

export function encodeNamePart(name: string): string {
  let out = '';
  for (const ch of name) {
    const code = ch.codePointAt(0) as number;
    if (/^[A-Za-z0-9_$]$/.test(ch) || code > 0x7f) out += ch;
    else out += `@${code.toString(16).padStart(4, '0')}`;
  }
  return out;
}

export function decodeNamePart(part: string): string {
  return part.replace(/@([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** A file that holds nothing to load: the dump's metadata, or a name this layout does not know. */
export interface OtherDumpFile {
  name: string;
  kind: 'metadata' | 'ignored';
}

/** A file about one database: its CREATE DATABASE, or its routines and events (`post`). */
export interface DatabaseDumpFile {
  name: string;
  kind: 'database' | 'post';
  compression?: Compression;
  /** Decoded database name. */
  db: string;
}

/** A file about one table (or view, or sequence) of a database. */
export interface TableDumpFile {
  name: string;
  kind: 'table-schema' | 'view' | 'triggers' | 'sequence' | 'data' | 'load-data';
  compression?: Compression;
  /** Decoded database name. */
  db: string;
  /** Decoded table name. */
  table: string;
}

/** What a file name of the layout says the file holds; `kind` tells which of the three it is. */
export type DumpFileName = OtherDumpFile | DatabaseDumpFile | TableDumpFile;

export type DumpFileKind = DumpFileName['kind'];

/** True for the files about a database or a table (every kind but metadata and ignored). */
export function isObjectFile(file: DumpFileName): file is DatabaseDumpFile | TableDumpFile {
  return file.kind !== 'metadata' && file.kind !== 'ignored';
}

export function classifyDumpFile(name: string): DumpFileName {
  let base = name;
  let compression: Compression | undefined;
  if (base.endsWith('.gz')) {
    compression = 'gzip';
    base = base.slice(0, -3);
  } else if (base.endsWith('.zst')) {
    compression = 'zstd';
    base = base.slice(0, -4);
  }
  const withCompression = <T extends DatabaseDumpFile | TableDumpFile>(r: T): T => (compression === undefined ? r : { ...r, compression });
  if (base === 'metadata' || base === 'metadata.header' || base.startsWith('metadata.partial')) {
    return { name, kind: 'metadata' };
  }
  if (base === 'all-schema-create-tablespace.sql' || base === 'resume') return { name, kind: 'ignored' };
  const databaseSuffixes: [string, DatabaseDumpFile['kind']][] = [
    ['-schema-create.sql', 'database'],
    ['-schema-post.sql', 'post'],
  ];
  for (const [suffix, kind] of databaseSuffixes) {
    if (!base.endsWith(suffix)) continue;
    const stem = base.slice(0, -suffix.length);
    return stem === '' ? { name, kind: 'ignored' } : withCompression({ name, kind, db: decodeNamePart(stem) });
  }
  const tableSuffixes: [string, TableDumpFile['kind']][] = [
    ['-schema-view.sql', 'view'],
    ['-schema-triggers.sql', 'triggers'],
    ['-schema-sequence.sql', 'sequence'],
    ['-schema.sql', 'table-schema'],
  ];
  for (const [suffix, kind] of tableSuffixes) {
    if (!base.endsWith(suffix)) continue;
    const stem = base.slice(0, -suffix.length);
    const dot = stem.indexOf('.');
    if (dot <= 0 || dot === stem.length - 1) return { name, kind: 'ignored' };
    return withCompression({
      name,
      kind,
      db: decodeNamePart(stem.slice(0, dot)),
      table: decodeNamePart(stem.slice(dot + 1)),
    });
  }
  if (base.endsWith('-checksum') || base.includes('-schema-checksum') || base.includes('-checksum.')) {
    return { name, kind: 'ignored' };
  }
  // db.table[.NNNNN[.NNNNN]].sql — the table part may contain dots in mydumper 0.10's raw names.
  const dataMatch = /^([^.]+)\.(.+?)((?:\.\d+){0,2})\.(sql|dat)$/.exec(base);
  if (dataMatch !== null && (dataMatch[2] as string) !== '') {
    return withCompression({
      name,
      kind: dataMatch[4] === 'dat' ? 'load-data' : 'data',
      db: decodeNamePart(dataMatch[1] as string),
      table: decodeNamePart(dataMatch[2] as string),
    });
  }
  return { name, kind: 'ignored' };
}

/** `db.t` as one key, unambiguous whatever the names contain. */
export function tableKey(db: string, table: string): string {
  return `${db}\u0000${table}`;
}

export function schemaCreateFileName(db: string): string {
  return `${encodeNamePart(db)}-schema-create.sql`;
}

export function postFileName(db: string): string {
  return `${encodeNamePart(db)}-schema-post.sql`;
}

export function tableFileName(db: string, table: string, suffix: '-schema' | '-schema-view' | '-schema-triggers'): string {
  return `${encodeNamePart(db)}.${encodeNamePart(table)}${suffix}.sql`;
}

export function dataFileName(db: string, table: string, part: number): string {
  return `${encodeNamePart(db)}.${encodeNamePart(table)}.${String(part).padStart(5, '0')}.sql`;
}
