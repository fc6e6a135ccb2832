/**
 * Messages between chunk-sources.ts and the chunk reader thread (structured-clone safe), in their own
 * module so that neither side imports the other.
 */
import type { ChunkerParams } from './chunker.js';
import type { WasmMemory } from './gear-scan.js';

export interface ChunkReaderSetup {
  slots: SharedArrayBuffer;
  /** The WebAssembly memory behind `slots`, when the scan kernel can use it. */
  memory?: WasmMemory;
  slotBase: number;
  slotBytes: number;
  gear: Int32Array;
  chunker: ChunkerParams;
}

export type ChunkReaderMessage = { setup: ChunkReaderSetup } | { grant: number };

export type ChunkReaderEvent =
  | { chunk: { slot: number; length: number }; bytes: number }
  | { end: { bytes: number } }
  | { error: string };
