/**
 * The chunker's cut-point scan in WebAssembly, over the shared memory that holds the chunk slots.
 *
 * The scan is the hottest loop of a backup (every byte after a chunk's `min` goes through it); the
 * WebAssembly loop (gear-scan.wat) is about three times faster than JavaScript's (decision log in
 * docs/architecture.md), with the same cut points (the JavaScript loop in chunker.ts stays as the reference and the fallback,
 * and the tests compare the two). It can only read its own memory, so the chunk slots live in a shared
 * WebAssembly memory: readers write chunk bytes there and the scan runs where they landed.
 *
 * Memory layout: [0, 1024) the gear table (256 little-endian int32), then the slot area from
 * SLOT_AREA_OFFSET.
 */
import { GEAR_SCAN_WASM_BASE64 } from './gear-scan-wasm.js';

export const GEAR_TABLE_BYTES = 1024;
/** Where the slot area starts (one WebAssembly page after the gear table's). */
export const SLOT_AREA_OFFSET = 65536;
const PAGE = 65536;
/** Offsets are passed as int32: memories larger than this use the JavaScript scan. */
const MAX_SCANNED_BYTES = 2 ** 31 - PAGE;

/** The part of the WebAssembly API used here (the project's TypeScript lib has no DOM types). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

function scanModule(): object | undefined {
  if (compiled === undefined) {
    try {
      compiled = WA === undefined ? null : new WA.Module(Buffer.from(GEAR_SCAN_WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled ?? undefined;
}

/**
 * Shared memory for `bytes` of slots after the gear table: a shared WebAssembly memory when the scan
 * kernel can use it, else a plain SharedArrayBuffer (the chunker then scans in JavaScript).
 */
export function chunkMemory(bytes: number): { memory: WasmMemory | undefined; buffer: SharedArrayBuffer } {
  const total = SLOT_AREA_OFFSET + bytes;
  if (WA !== undefined && total <= MAX_SCANNED_BYTES && scanModule() !== undefined) {
    try {
      const pages = Math.ceil(total / PAGE);
      const memory = new WA.Memory({ initial: pages, maximum: pages, shared: true });
      return { memory, buffer: memory.buffer as SharedArrayBuffer };
    } catch {
      // fall through: no shared WebAssembly memory here
    }
  }
  return { memory: undefined, buffer: new SharedArrayBuffer(total) };
}

/** The scan kernel bound to one chunk memory (one instance per thread). */
export class GearScanner {
  readonly buffer: SharedArrayBuffer;
  readonly #scan: (p: number, to: number, mask: number, h: number) => number;
  readonly #hash: { value: number };

  private constructor(memory: WasmMemory, exports: Record<string, unknown>) {
    this.buffer = memory.buffer as SharedArrayBuffer;
    this.#scan = exports.scan as (p: number, to: number, mask: number, h: number) => number;
    this.#hash = exports.hash as { value: number };
  }

  /** A scanner over `memory` (undefined when there is none, or WebAssembly cannot use it). */
  static over(memory: WasmMemory | undefined): GearScanner | undefined {
    const module = scanModule();
    if (memory === undefined || module === undefined || WA === undefined) return undefined;
    try {
      return new GearScanner(memory, new WA.Instance(module, { env: { memory } }).exports);
    } catch {
      return undefined;
    }
  }

  /** Writes the gear table into the memory (by the thread that owns the slots, before any scan). */
  setGear(gear: Int32Array): void {
    new Int32Array(this.buffer, 0, 256).set(gear);
  }

  /** True when the memory holds exactly this gear table. */
  hasGear(gear: Int32Array): boolean {
    const table = new Int32Array(this.buffer, 0, 256);
    for (let i = 0; i < 256; i++) if (table[i] !== gear[i]) return false;
    return true;
  }

  /**
   * Scans memory [from, to) from hash `h`; returns the offset just past the cut, or -1. The hash after
   * the scan is `hash`.
   */
  scan(from: number, to: number, mask: number, h: number): number {
    return this.#scan(from, to, mask, h);
  }

  get hash(): number {
    return this.#hash.value;
  }
}
