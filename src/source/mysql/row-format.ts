/**
 * The dump's hot path: text-protocol row packets → extended INSERT statements, byte to byte.
 *
 * Why bytes: the server already sends every value as text (numbers, DECIMAL, dates) or as raw bytes
 * (strings and binary, unconverted because the connection character set is `binary`). Copying
 * numbers and escaping strings straight from the packet into an output buffer avoids creating a JS
 * string or object per value; measured on a 2-core machine it uses about a third of the CPU of
 * mysql2's row objects plus string escaping (see bench/mysql/README.md). Each row is formatted by a
 * small WebAssembly kernel (row-wasm.ts, SIMD, 2-3x faster than the byte loop below); the
 * JavaScript loop is the fallback and the reference the kernel is tested against.
 *
 * Value forms (each column's kind is decided once, from information_schema):
 *   NUMBER  copied as is (integers, DECIMAL, FLOAT cast to DOUBLE, DOUBLE, YEAR)
 *   STRING  '...' with \0 \n \r \\ \' \Z escaped; any bytes, interpreted under SET NAMES binary
 *   HEX     0x... (binary columns with --hex-blob); '' when empty
 *   NULL    from the 0xFB length marker
 * Every row is on its own line and no value contains a raw newline, so a statement ends exactly at
 * a line that ends with `;` (what myloader relies on).
 */

import { type RowKernel, rowKernel } from './row-wasm.js';

export const KIND_NUMBER = 0;
export const KIND_STRING = 1;
export const KIND_HEX = 2;
/** STRING with a `_binary` introducer, for files that cannot use SET NAMES binary (see schema.ts). */
export const KIND_BINARY_STRING = 3;

const BINARY_INTRODUCER = Buffer.from("_binary'");

const DEFAULT_BUFFER_BYTES = 1 << 20;
/**
 * Output buffers are shared by all formatters of the process and reused: fresh memory costs a page
 * fault per 4 KiB on first touch, which showed up as system time once tables were cut into chunks.
 */
const sharedPool: Buffer[] = [];
const MAX_POOLED = 64;

const ESCAPE = new Uint8Array(256);
ESCAPE[0x00] = 0x30; // \0
ESCAPE[0x0a] = 0x6e; // \n
ESCAPE[0x0d] = 0x72; // \r
ESCAPE[0x5c] = 0x5c; // \\
ESCAPE[0x27] = 0x27; // \'
ESCAPE[0x1a] = 0x5a; // \Z

const HEX_PAIRS = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  const s = i.toString(16).padStart(2, '0');
  HEX_PAIRS[i] = s.charCodeAt(0) | (s.charCodeAt(1) << 8);
}

/** Receives full output buffers; calls `release` when done with one, so it can be reused. */
export interface FormatterOutput {
  /**
   * `buf[0, length)` belongs to the output until it calls `release`, with the buffer to reuse in its place
   * when `buf` itself moved to another thread (its memory came back as a new Buffer).
   */
  write(buf: Buffer, length: number, release: (returned?: Buffer) => void): void;
  /** A file boundary after a complete statement (only when `maxFileBytes` is set). */
  nextFile(): void;
}

export interface InsertFormatterOptions {
  kinds: Uint8Array;
  /** `INSERT INTO `t` VALUES\n` or with a column list. */
  insertPrefix: string;
  /** Written at the start of every output file. */
  fileHeader: string;
  /** A statement is closed once it reaches this many bytes (mydumper's --statement-size). */
  statementBytes: number;
  /** Start a new file after a statement once the file has this many bytes (0: never). */
  maxFileBytes: number;
  /** Size of each output buffer. */
  bufferBytes?: number;
  /** Format with JavaScript only, without the WebAssembly kernel (tests compare the two). */
  noKernel?: boolean;
}


export class InsertFormatter {
  readonly #kinds: Uint8Array;
  readonly #prefix: Buffer;
  readonly #fileHeader: Buffer;
  readonly #statementBytes: number;
  readonly #maxFileBytes: number;
  readonly #bufferBytes: number;
  readonly #out: FormatterOutput;
  readonly #kernel: RowKernel | undefined;
  readonly #kindsOffset: number;
  #buf: Buffer;
  #pos = 0;
  /** Bytes of the statement being written (0: no statement open). */
  #stmt = 0;
  /** Bytes of the current file so far (0: no file started). */
  #file = 0;
  rows = 0;
  bytes = 0;

  constructor(options: InsertFormatterOptions, out: FormatterOutput) {
    this.#kinds = options.kinds;
    this.#prefix = Buffer.from(options.insertPrefix, 'utf8');
    this.#fileHeader = Buffer.from(options.fileHeader, 'utf8');
    this.#statementBytes = options.statementBytes;
    this.#maxFileBytes = options.maxFileBytes;
    this.#bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES;
    this.#out = out;
    this.#buf = this.#take();
    const kernel = options.noKernel === true ? undefined : rowKernel();
    const at = kernel?.kindsOffset(this.#kinds);
    this.#kernel = at === undefined ? undefined : kernel;
    this.#kindsOffset = at ?? -1;
  }

  /** Formats one row from its text-protocol packet `b[start, end)`. */
  addRow(b: Buffer, start: number, end: number): void {
    const kinds = this.#kinds;
    const n = kinds.length;
    // Worst case for this row: every byte escaped or hexed, plus separators.
    const worst = 2 * (end - start) + 12 * n + this.#prefix.length + this.#fileHeader.length + 16;
    if (this.#pos + worst > this.#buf.length) this.#flush(worst);
    const out = this.#buf;
    let o = this.#pos;
    const rowStart = o;
    if (this.#file === 0 && this.#stmt === 0) {
      o += this.#fileHeader.copy(out, o);
    }
    if (this.#stmt === 0) {
      o += this.#prefix.copy(out, o);
    } else {
      out[o++] = 0x2c; // ,
      out[o++] = 0x0a;
    }
    if (this.#kernel !== undefined) {
      const k = this.#kernel;
      const to = k.format(b, start, end, this.#kindsOffset, n);
      if (to < 0) throw new Error('malformed row packet: value runs past the end of the packet');
      o += k.memory.copy(out, o, k.rowStart, to);
      this.#rowDone(o, rowStart);
      return;
    }
    out[o++] = 0x28; // (
    let p = start;
    for (let c = 0; c < n; c++) {
      if (c !== 0) out[o++] = 0x2c;
      let len = b[p++] as number;
      if (len === 0xfb) {
        out[o++] = 0x4e; // NULL
        out[o++] = 0x55;
        out[o++] = 0x4c;
        out[o++] = 0x4c;
        continue;
      }
      if (len >= 0xfc) {
        if (len === 0xfc) {
          len = (b[p] as number) | ((b[p + 1] as number) << 8);
          p += 2;
        } else if (len === 0xfd) {
          len = (b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16);
          p += 3;
        } else {
          len = b.readUInt32LE(p) + b.readUInt32LE(p + 4) * 0x100000000;
          p += 8;
        }
      }
      const e = p + len;
      if (e > end) throw new Error('malformed row packet: value runs past the end of the packet');
      const kind = kinds[c];
      if (kind === KIND_NUMBER) {
        if (len > 32) {
          o += b.copy(out, o, p, e);
          p = e;
        } else {
          while (p < e) out[o++] = b[p++] as number;
        }
      } else if (kind === KIND_STRING || kind === KIND_BINARY_STRING) {
        if (kind === KIND_BINARY_STRING) o += BINARY_INTRODUCER.copy(out, o) - 1;
        out[o++] = 0x27;
        while (p < e) {
          const x = b[p++] as number;
          // Every byte that needs escaping is below 0x28 or is 0x5c: most bytes skip the table.
          if (x > 0x27 && x !== 0x5c) {
            out[o++] = x;
            continue;
          }
          const s = ESCAPE[x] as number;
          if (s === 0) {
            out[o++] = x;
          } else {
            out[o++] = 0x5c;
            out[o++] = s;
          }
        }
        out[o++] = 0x27;
      } else if (len === 0) {
        out[o++] = 0x27;
        out[o++] = 0x27;
      } else {
        out[o++] = 0x30; // 0x
        out[o++] = 0x78;
        while (p < e) {
          const h = HEX_PAIRS[b[p++] as number] as number;
          out[o++] = h & 0xff;
          out[o++] = h >> 8;
        }
      }
    }
    out[o++] = 0x29; // )
    this.#rowDone(o, rowStart);
  }

  #rowDone(o: number, rowStart: number): void {
    const rowBytes = o - rowStart;
    this.#pos = o;
    this.#stmt += rowBytes;
    this.#file += rowBytes;
    this.rows += 1;
    if (this.#stmt >= this.#statementBytes) this.#endStatement();
  }

  /** Closes the open statement and hands over what is buffered. */
  finish(): void {
    if (this.#stmt > 0) this.#endStatement(true);
    if (this.#pos > 0) this.#flush(0);
    this.#give(this.#buf);
  }

  #take(): Buffer {
    if (this.#bufferBytes === DEFAULT_BUFFER_BYTES) return sharedPool.pop() ?? Buffer.allocUnsafe(this.#bufferBytes);
    return Buffer.allocUnsafe(this.#bufferBytes);
  }

  #give(buf: Buffer): void {
    if (buf.length === DEFAULT_BUFFER_BYTES && this.#bufferBytes === DEFAULT_BUFFER_BYTES && sharedPool.length < MAX_POOLED) {
      sharedPool.push(buf);
    }
  }

  #endStatement(final = false): void {
    if (this.#pos + 2 > this.#buf.length) this.#flush(2);
    this.#buf[this.#pos++] = 0x3b; // ;
    this.#buf[this.#pos++] = 0x0a;
    this.#file += 2;
    this.#stmt = 0;
    if (!final && this.#maxFileBytes > 0 && this.#file >= this.#maxFileBytes) {
      this.#flush(0);
      this.#file = 0;
      this.#out.nextFile();
    }
  }

  /** Hands the current buffer to the output and makes room for at least `need` bytes. */
  #flush(need: number): void {
    if (this.#pos > 0) {
      const full = this.#buf;
      this.bytes += this.#pos;
      this.#out.write(full, this.#pos, (returned) => this.#give(returned ?? full));
    }
    this.#pos = 0;
    if (need > this.#bufferBytes) this.#buf = Buffer.allocUnsafe(need);
    else this.#buf = this.#take();
  }
}

/** Bytes escaped the same way as STRING values, for tests and for literals we build elsewhere. */
export function escapeStringBytes(value: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(value.length * 2 + 2);
  let o = 0;
  out[o++] = 0x27;
  for (const x of value) {
    const s = ESCAPE[x] as number;
    if (s === 0) out[o++] = x;
    else {
      out[o++] = 0x5c;
      out[o++] = s;
    }
  }
  out[o++] = 0x27;
  return out.subarray(0, o);
}
