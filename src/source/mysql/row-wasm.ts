/**
 * The WebAssembly kernel of the row formatter (row-format.wat): one call formats a whole row,
 * copying and escaping 16 bytes at a time with SIMD. JavaScript byte loops run at about 0.7 GB/s
 * here and were the largest CPU cost of a dump; the kernel does the same work several times faster,
 * with the same output byte for byte (the JS path stays as the fallback and the reference).
 *
 * Memory: [0, 256) escape table, [256, 768) hex pairs, [1024, INPUT) column kinds of each table,
 * then the packet being read (a copy of mysql2's socket chunk, made once per chunk), then the row
 * being written. Single-threaded use only (all formatters of the process share it).
 */
import { ROW_FORMAT_WASM_BASE64 } from './row-format-wasm.js';

const KINDS_BASE = 1024;
const INPUT_BASE = 1 << 20;
const PAGE = 65536;

export interface RowKernel {
  /** Offset of this kinds table in the kernel's memory (undefined when the kinds area is full). */
  kindsOffset(kinds: Uint8Array): number | undefined;
  /**
   * Formats `b[start, end)` into `memory` from `rowStart`; returns where the row ends (valid until the
   * next call), or -1 when the packet is malformed.
   */
  format(b: Buffer, start: number, end: number, kindsOffset: number, columns: number): number;
  /** Where `format` writes the row. */
  readonly rowStart: number;
  /** The kernel's memory as a Buffer (re-read after each format: it can grow). */
  readonly memory: Buffer;
}

/** The part of the WebAssembly API used here (the project's TypeScript lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const WA = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
    };
  }
).WebAssembly;

let kernel: RowKernel | null | undefined;

/** The shared kernel, or undefined where WebAssembly SIMD is not available. */
export function rowKernel(): RowKernel | undefined {
  if (kernel === undefined) {
    try {
      kernel = createKernel();
    } catch {
      kernel = null;
    }
  }
  return kernel ?? undefined;
}

function createKernel(): RowKernel {
  const module = new WA.Module(Buffer.from(ROW_FORMAT_WASM_BASE64, 'base64'));
  const instance = new WA.Instance(module, {});
  const mem = instance.exports.memory as WasmMemory;
  const row = instance.exports.row as (p: number, end: number, kinds: number, n: number, o: number) => number;
  mem.grow((INPUT_BASE + (4 << 20)) / PAGE - mem.buffer.byteLength / PAGE);
  let view = Buffer.from(mem.buffer);
  const escape = [0x00, 0x30, 0x0a, 0x6e, 0x0d, 0x72, 0x5c, 0x5c, 0x27, 0x27, 0x1a, 0x5a];
  for (let i = 0; i < escape.length; i += 2) view[escape[i] as number] = escape[i + 1] as number;
  for (let i = 0; i < 256; i++) view.write(i.toString(16).padStart(2, '0'), 256 + 2 * i, 'latin1');

  const kindsAt = new Map<string, number>();
  let kindsNext = KINDS_BASE;
  let inputCap = 1 << 20;
  let outBase = INPUT_BASE + inputCap;
  let last: Buffer | undefined;

  const ensure = (bytes: number): void => {
    if (bytes <= view.length) return;
    mem.grow(Math.ceil((bytes - view.length) / PAGE));
    view = Buffer.from(mem.buffer);
    last = undefined;
  };

  return {
    get memory() {
      return view;
    },
    get rowStart() {
      return outBase;
    },
    kindsOffset(kinds) {
      const key = kinds.join(',');
      const known = kindsAt.get(key);
      if (known !== undefined) return known;
      if (kindsNext + kinds.length > INPUT_BASE) return undefined;
      const at = kindsNext;
      view.set(kinds, at);
      kindsNext += kinds.length;
      kindsAt.set(key, at);
      return at;
    },
    format(b, start, end, kindsOffset, columns) {
      if (b !== last) {
        if (b.length > inputCap) {
          inputCap = Math.max(b.length, inputCap * 2);
          outBase = INPUT_BASE + inputCap;
        }
        ensure(outBase);
        view.set(b, INPUT_BASE);
        last = b;
      }
      // Worst case: every byte escaped or hexed, `_binary''` and a comma per column, the parentheses.
      ensure(outBase + 2 * (end - start) + 10 * columns + 16);
      return row(INPUT_BASE + start, INPUT_BASE + end, kindsOffset, columns, outBase);
    },
  };
}
