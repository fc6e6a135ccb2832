/**
 * Cutting dump files into statements. A statement ends at a `;` that ends a line (mydumper's rule,
 * which myloader also uses); bodies of triggers and routines protect their inner line-ending `;`
 * with a trailing space.
 *
 * Data files (huge) use a byte search for ";\n": in mydumper-style data files no value contains a
 * raw newline, so that sequence only occurs at statement ends. Schema files (small) use a scanner
 * that also skips string literals, quoted identifiers and comments.
 *
 * Statements are returned as latin1 strings: one char per byte, so sending them over a `binary`
 * connection reproduces the file's bytes exactly, whatever character set they are in.
 */

export interface Statement {
  sql: string;
  /** 1-based statement number in the file. */
  index: number;
}

const SEMI_NL = Buffer.from(';\n');

/** Splits a stream of data-file chunks into statements, keeping at most one partial statement. */
export async function* dataStatements(chunks: AsyncIterable<Buffer>): AsyncGenerator<Statement> {
  let carry: Buffer | undefined;
  let index = 0;
  for await (const chunk of chunks) {
    const buf = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    let start = 0;
    // Only search the part that can hold a new ";\n" (one byte of overlap with the carry).
    let from = carry === undefined ? 0 : Math.max(0, carry.length - 1);
    for (;;) {
      const at = buf.indexOf(SEMI_NL, from);
      if (at < 0) break;
      const sql = buf.toString('latin1', start, at + 1);
      start = at + 2;
      from = start;
      if (!isBlank(sql)) {
        index += 1;
        yield { sql, index };
      }
    }
    carry = start >= buf.length ? undefined : Buffer.from(buf.subarray(start));
  }
  if (carry !== undefined) {
    const sql = carry.toString('latin1', 0, carry.length);
    if (!isBlank(sql)) {
      index += 1;
      yield { sql, index };
    }
  }
}

function isBlank(sql: string): boolean {
  return /^\s*;?\s*$/.test(sql);
}

/**
 * Splits a whole schema file (as a latin1 string) into statements, outside quotes and comments.
 * A `;` ends a statement when it is followed by a line end (or the end of the file).
 */
export function schemaStatements(text: string): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  let i = 0;
  let index = 0;
  const n = text.length;
  const push = (end: number): void => {
    const sql = text.slice(start, end).trim();
    if (sql !== '' && sql !== ';') {
      index += 1;
      out.push({ sql, index });
    }
  };
  while (i < n) {
    const c = text[i] as string;
    if (c === "'" || c === '"' || c === '`') {
      i += 1;
      while (i < n) {
        const d = text[i] as string;
        if (d === '\\' && c !== '`') {
          i += 2;
          continue;
        }
        if (d === c) {
          if (text[i + 1] === c) {
            i += 2;
            continue;
          }
          break;
        }
        i += 1;
      }
      i += 1;
      continue;
    }
    if (c === '#' || (c === '-' && text[i + 1] === '-' && /\s/.test(text[i + 2] ?? '\n'))) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      continue;
    }
    if (c === '/' && text[i + 1] === '*' && text[i + 2] !== '!') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    if (c === ';') {
      let j = i + 1;
      if (text[j] === '\r') j += 1;
      if (j >= n || text[j] === '\n') {
        push(i + 1);
        start = j + 1;
        i = j + 1;
        continue;
      }
    }
    i += 1;
  }
  push(n);
  return out;
}
