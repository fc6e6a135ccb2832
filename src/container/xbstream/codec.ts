/**
 * Byte layouts of xbstream chunks (docs/formats/xbstream.md). Pure functions, no I/O.
 * Every integer is little-endian; u64 fields beyond Number.MAX_SAFE_INTEGER are refused.
 */
import { crc32 } from '../../bytes/crc32.js';
import { FormatError } from '../../errors.js';

export const MAGIC = Buffer.from('XBSTCK01', 'latin1');
export const MAGIC_BYTES = 8;
/** magic + flags + type + pathlen */
export const PREFIX_BYTES = 14;
/** len u64 + offset u64 + crc32 u32 after the path of a P chunk. */
export const PAYLOAD_TAIL_BYTES = 20;
/** Readers refuse pathlen >= 512 (FN_REFLEN); writers therefore stop at 511. */
export const MAX_PATH_BYTES = 511;
/** Upstream writers stage 10 MiB per file and emit chunks of that size. */
export const CHUNK_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** Our reader's cap on one chunk's payload; upstream writers never exceed 10 MiB in practice. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;
/** Cap on entries in a Percona sparse map (each describes a hole and a run of data). */
export const MAX_SPARSE_MAP_ENTRIES = 1 << 20;

export const enum ChunkType {
  Payload = 0x50, // 'P'
  Eof = 0x45, // 'E'
  Sparse = 0x53, // 'S': Percona sparse payload, or MariaDB seek (same byte, different layout)
  Remove = 0x44, // 'D' (MariaDB)
  Rename = 0x52, // 'R' (MariaDB)
}

export const FLAG_IGNORABLE = 0x01;
/** MariaDB 10.11: the file is being re-sent and replaces what was extracted before. */
export const FLAG_REWRITE = 0x02;

/** The CRC-32 of a piece's bytes if it is known for certain (see `FileReader.crcOf`), else undefined. */
export type KnownCrc = (piece: Uint8Array) => number | undefined;

/**
 * Encodes the full header of a P chunk (everything before the payload); the payload may be in pieces.
 * `flags` is 0 but for a file written a second time (`FLAG_REWRITE`). The CRC is computed here from the
 * bytes the chunk carries, except for a first piece whose CRC `knownCrc` vouches for (the reader thread
 * computed it while reading: decision log, docs/architecture.md).
 */
export function encodePayloadHeader(pathBytes: Uint8Array, payload: readonly Uint8Array[], offset: number, flags = 0, knownCrc?: KnownCrc): Buffer {
  const header = Buffer.allocUnsafe(PREFIX_BYTES + pathBytes.length + PAYLOAD_TAIL_BYTES);
  const at = writePrefix(header, ChunkType.Payload, pathBytes, flags);
  let length = 0;
  let crc = 0;
  for (const [i, piece] of payload.entries()) {
    length += piece.length;
    const known = i === 0 ? knownCrc?.(piece) : undefined;
    crc = known ?? crc32(piece, crc);
  }
  header.writeBigUInt64LE(BigInt(length), at);
  header.writeBigUInt64LE(BigInt(offset), at + 8);
  header.writeUInt32LE(crc, at + 16);
  return header;
}

export function encodeEofChunk(pathBytes: Uint8Array, flags = 0): Buffer {
  const chunk = Buffer.allocUnsafe(PREFIX_BYTES + pathBytes.length);
  writePrefix(chunk, ChunkType.Eof, pathBytes, flags);
  return chunk;
}

/** MariaDB's D chunk: delete a file extracted earlier. */
export function encodeRemoveChunk(pathBytes: Uint8Array): Buffer {
  const chunk = Buffer.allocUnsafe(PREFIX_BYTES + pathBytes.length);
  writePrefix(chunk, ChunkType.Remove, pathBytes, 0);
  return chunk;
}

/** MariaDB's R chunk: rename a file extracted earlier (new path length u32, then the new path). */
export function encodeRenameChunk(pathBytes: Uint8Array, toBytes: Uint8Array): Buffer {
  const chunk = Buffer.allocUnsafe(PREFIX_BYTES + pathBytes.length + 4 + toBytes.length);
  const at = writePrefix(chunk, ChunkType.Rename, pathBytes, 0);
  chunk.writeUInt32LE(toBytes.length, at);
  chunk.set(toBytes, at + 4);
  return chunk;
}

function writePrefix(buf: Buffer, type: ChunkType, pathBytes: Uint8Array, flags: number): number {
  MAGIC.copy(buf, 0);
  buf[8] = flags;
  buf[9] = type;
  buf.writeUInt32LE(pathBytes.length, 10);
  buf.set(pathBytes, PREFIX_BYTES);
  return PREFIX_BYTES + pathBytes.length;
}

export interface ChunkPrefix {
  flags: number;
  type: number;
  pathLength: number;
}

/** Decodes the fixed 14-byte prefix; the caller has checked there are 14 bytes. */
export function decodePrefix(bytes: Uint8Array, streamOffset: number, chunk: number): ChunkPrefix {
  for (let i = 0; i < MAGIC_BYTES; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new FormatError('E_XBSTREAM_MAGIC', `not an xbstream chunk: wrong magic ${describeMagic(bytes)}`, {
        chunk,
        offset: streamOffset,
      });
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pathLength = view.getUint32(10, true);
  if (pathLength >= MAX_PATH_BYTES + 1) {
    throw new FormatError('E_XBSTREAM_PATH_LENGTH', `path length ${pathLength} is too large (the limit is ${MAX_PATH_BYTES})`, {
      chunk,
      offset: streamOffset,
    });
  }
  return { flags: bytes[8] as number, type: bytes[9] as number, pathLength };
}

/** Reads a little-endian u64, whole: the caller checks it against its cap before it becomes a number (`boundedU64` in reader.ts). */
export function readU64(bytes: Uint8Array, at: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(at, true);
}

export function readU32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);
}

export function typeName(type: number): string {
  const printable = type >= 0x20 && type < 0x7f ? `'${String.fromCharCode(type)}' ` : '';
  return `${printable}0x${type.toString(16).padStart(2, '0')}`;
}

function describeMagic(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, MAGIC_BYTES));
  const printable = /^[\x20-\x7e]*$/.test(head.toString('latin1'));
  return printable ? JSON.stringify(head.toString('latin1')) : `0x${head.toString('hex')}`;
}
