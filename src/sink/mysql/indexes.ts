/**
 * --defer-indexes: secondary indexes are taken out of CREATE TABLE and added after the table's data
 * with one ALTER TABLE (InnoDB then builds each by sorting, instead of inserting key by key).
 *
 * Works on SHOW CREATE TABLE's layout: one definition per line between the first "(" line and the
 * closing ")". Kept in place: PRIMARY KEY, FULLTEXT and SPATIAL keys, and every key of a table
 * with foreign keys (they need their indexes) or whose AUTO_INCREMENT column is not the first
 * column of the primary key (it needs a key at all times).
 */

export interface DeferredIndexes {
  /** CREATE TABLE without the deferred keys. */
  create: string;
  /** The key definitions, as they appeared (for `ALTER TABLE t ADD <def>, ADD <def>`). */
  keys: string[];
}

export function deferSecondaryIndexes(create: string): DeferredIndexes | undefined {
  if (!/^\s*CREATE\s+TABLE\b/i.test(create)) return undefined;
  const lines = create.split('\n');
  const first = lines.findIndex((l) => /\($/.test(l.trimEnd()));
  let last = -1;
  for (let i = lines.length - 1; i > first; i--) {
    if (/^\)/.test(lines[i] as string)) {
      last = i;
      break;
    }
  }
  if (first < 0 || last < 0) return undefined;
  const defs = lines.slice(first + 1, last).map((l) => l.replace(/,\s*$/, ''));
  if (defs.some((d) => /^\s*CONSTRAINT\b.*\bFOREIGN KEY\b/i.test(d) || /^\s*FOREIGN KEY\b/i.test(d))) return undefined;
  const autoInc = defs.find((d) => /^\s*`/.test(d) && /\bAUTO_INCREMENT\b/i.test(d));
  if (autoInc !== undefined) {
    const col = /^\s*(`(?:[^`]|``)+`)/.exec(autoInc)?.[1];
    const pk = defs.find((d) => /^\s*PRIMARY KEY\s*\(/i.test(d));
    if (col === undefined || pk === undefined || !pk.replace(/^\s*PRIMARY KEY\s*\(/i, '').startsWith(col)) return undefined;
  }
  const keep: string[] = [];
  const keys: string[] = [];
  for (const d of defs) {
    if (/^\s*(UNIQUE KEY|UNIQUE INDEX|KEY|INDEX)\s/i.test(d)) keys.push(d.trim());
    else keep.push(d);
  }
  if (keys.length === 0) return undefined;
  const create2 = [...lines.slice(0, first + 1), keep.join(',\n'), ...lines.slice(last)].join('\n');
  return { create: create2, keys };
}

export function addIndexesStatement(qualifiedTable: string, keys: string[]): string {
  return `ALTER TABLE ${qualifiedTable} ${keys.map((k) => `ADD ${k}`).join(', ')}`;
}
