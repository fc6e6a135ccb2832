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

export interface StatementBytes {
  bytes: Buffer;
  /** 1-based statement number in the file. */
  index: number;
}

const SEMI_NL = Buffer.from(';\n');

/**
 * Splits a stream of data-file chunks into statements. A yielded statement is a view into the
 * chunk, or into a reused buffer holding a statement that spanned chunks: it is valid until the
 * consumer asks for the next one (the loader copies it into its packet before that). Chunks may
 * likewise be reused by their producer once the next one is requested.
 */
export async function* dataStatements(chunks: AsyncIterable<Buffer>): AsyncGenerator<StatementBytes> {
  let asm = Buffer.allocUnsafe(1 << 20);
  let asmLen = 0;
  let index = 0;
  const append = (b: Buffer, from: number, to: number): void => {
    const n = to - from;
    if (asmLen + n > asm.length) {
      const bigger = Buffer.allocUnsafe(Math.max(asm.length * 2, asmLen + n));
      asm.copy(bigger, 0, 0, asmLen);
      asm = bigger;
    }
    b.copy(asm, asmLen, from, to);
    asmLen += n;
  };
  for await (const chunk of chunks) {
    let from = 0;
    if (asmLen > 0) {
      // The statement in progress ends in this chunk, possibly right at its first byte.
      let end = -1;
      if (asm[asmLen - 1] === 0x3b && chunk[0] === 0x0a) {
        end = 0;
      } else {
        const at = chunk.indexOf(SEMI_NL);
        if (at >= 0) {
          append(chunk, 0, at + 1);
          end = at + 1;
        }
      }
      if (end < 0) {
        append(chunk, 0, chunk.length);
        continue;
      }
      const bytes = asm.subarray(0, asmLen);
      asmLen = 0;
      from = end + 1;
      if (!isBlankBytes(bytes)) {
        index += 1;
        yield { bytes, index };
      }
    }
    for (;;) {
      const at = chunk.indexOf(SEMI_NL, from);
      if (at < 0) break;
      const bytes = chunk.subarray(from, at + 1);
      from = at + 2;
      if (!isBlankBytes(bytes)) {
        index += 1;
        yield { bytes, index };
      }
    }
    if (from < chunk.length) append(chunk, from, chunk.length);
  }
  if (asmLen > 0) {
    const bytes = asm.subarray(0, asmLen);
    if (!isBlankBytes(bytes)) {
      index += 1;
      yield { bytes, index };
    }
  }
}

/** Only whitespace and at most one `;`. */
function isBlankBytes(b: Buffer): boolean {
  let semis = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c === 0x3b) semis += 1;
    else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
    if (semis > 1) return false;
  }
  return true;
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
