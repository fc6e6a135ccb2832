/** Messages between the main thread and the crypto workers (structured-clone safe). */
import type { ObjectKind } from '../format.js';
import type { FileDigest } from './small-files.js';

export interface WorkerKeys {
  dataKey: Uint8Array;
  idKey: Uint8Array;
  repoId: Uint8Array;
}

export interface WorkerSetup {
  keys: WorkerKeys;
  /** Chunk slots shared with the main thread (undefined for workers that only open blobs). */
  slots?: SharedArrayBuffer;
  /** Offset of slot 0 in `slots`, and the size of a slot (a chunk's most bytes and the room sealing adds). */
  slotBase: number;
  slotBytes: number;
}

export type Request =
  | { op: 'hash'; slot: number; length: number; stream: number }
  | { op: 'digest'; stream: number }
  | { op: 'seal'; kind: ObjectKind; id: Uint8Array; slot: number; length: number; bytes?: Uint8Array; level: number }
  /** Seals the chunk in a slot and writes the envelope over it, in the same slot. */
  | { op: 'sealSlot'; kind: ObjectKind; id: Uint8Array; slot: number; length: number; level: number }
  | { op: 'open'; kind: ObjectKind; id: Uint8Array; envelope: Uint8Array; rawLength: number; object: string }
  | { op: 'readFiles'; batch: number; paths: string[]; sizes: number[]; maxBytes: number }
  | { op: 'sealFiles'; batch: number; indices: number[]; kind: ObjectKind; level: number };

export type Reply =
  | { op: 'hash'; id: Uint8Array }
  | { op: 'digest'; sha256: string; bytes: number }
  | { op: 'seal'; parts: Uint8Array[]; compressed: boolean }
  | { op: 'sealSlot'; length: number; compressed: boolean }
  | { op: 'open'; data: Uint8Array }
  | { op: 'readFiles'; files: FileDigest[] }
  | { op: 'sealFiles'; envelopes: Uint8Array; lengths: number[] };

export interface WorkerError {
  name: string;
  code: string;
  detail: string;
  object?: string;
}

/** The first message a worker gets: keys and slots (sent once the password is checked; the thread starts earlier). */
export type SetupMessage = { setup: WorkerSetup };
export type Envelope = { seq: number; request: Request };
export type Response = { seq: number; ok: true; reply: Reply } | { seq: number; ok: false; error: WorkerError };

/** Views whose buffer can be moved to another thread without copying (never the shared Buffer pool). */
export function isTransferable(u8: Uint8Array): boolean {
  return u8.buffer instanceof ArrayBuffer && u8.buffer.byteLength > 16 * 1024;
}

/** A view that can go in a transfer list: the view itself, or a copy into its own buffer. */
export function ownBuffer(u8: Uint8Array): Uint8Array {
  return isTransferable(u8) ? u8 : new Uint8Array(u8);
}
