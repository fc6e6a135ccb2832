/**
 * Parses an xbstream into chunk events, accepting everything Percona xbstream and MariaDB mbstream write
 * (P, E, Percona sparse S, MariaDB seek S, D remove, R rename, the rewrite flag) and refusing everything
 * else with an error that names the file, the chunk number and the stream offset.
 *
 * Beyond upstream: paths are validated (including both paths of D/R), CRCs are checked on every payload,
 * payload lengths are capped, and a file still open at the end of input is an error (both upstream
 * readers accept a missing E chunk silently).
 */
import { crc32 } from '../../bytes/crc32.js';
import { ByteReader } from '../../bytes/byte-reader.js';
import { type SafePath, toSafePath } from '../../entry.js';
import { FormatError, IntegrityError, type Where, withContext } from '../../errors.js';
import {
  ChunkType,
  DEFAULT_MAX_PAYLOAD_BYTES,
  decodePrefix,
  FLAG_IGNORABLE,
  FLAG_REWRITE,
  MAGIC,
  MAX_PATH_BYTES,
  MAX_SPARSE_MAP_ENTRIES,
  PAYLOAD_TAIL_BYTES,
  PREFIX_BYTES,
  readU32,
  readU64,
  typeName,
} from './codec.js';

export interface ChunkPosition {
  /** 1-based number of the chunk in the stream. */
  chunk: number;
  /** Stream offset of the chunk's first byte. */
  streamOffset: number;
}

export type XbstreamEvent =
  /** Bytes of `path` at `offset`. A chunk's payload may arrive as several events; an empty one extends the file. */
  | ({ type: 'data'; path: SafePath; offset: number; data: Uint8Array; rewrite: boolean } & ChunkPosition)
  /** MariaDB seek: the next data of `path` starts at `offset`. */
  | ({ type: 'seek'; path: SafePath; offset: number; rewrite?: boolean } & ChunkPosition)
  /** The file is complete. With `rewrite`, an E chunk alone may re-send a file as empty. */
  | ({ type: 'eof'; path: SafePath; rewrite?: boolean } & ChunkPosition)
  /** MariaDB: delete `path`. */
  | ({ type: 'remove'; path: SafePath } & ChunkPosition)
  /** MariaDB: rename `path` to `to`. */
  | ({ type: 'rename'; path: SafePath; to: SafePath } & ChunkPosition)
  /** An unknown chunk type flagged ignorable was skipped. */
  | ({ type: 'skipped'; path: string; chunkType: number } & ChunkPosition);

export interface XbstreamReaderOptions {
  /** Largest payload accepted in one chunk (upstream writers use 10 MiB). */
  maxPayloadBytes?: number;
  /**
   * Largest piece of payload handed out in one event. Pieces are views of the input chunks (never copied),
   * so they may also be smaller: a payload arrives in as many events as its bytes span input chunks.
   */
  maxEventBytes?: number;
  /** Name of the input in error messages. */
  label?: string;
}

interface FileState {
  expected: number;
  open: boolean;
}

const DEFAULT_EVENT_BYTES = 1024 * 1024;

export async function* readXbstream(
  input: AsyncIterable<Uint8Array>,
  options: XbstreamReaderOptions = {},
): AsyncGenerator<XbstreamEvent> {
  const maxPayload = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxEvent = options.maxEventBytes ?? DEFAULT_EVENT_BYTES;
  const reader = new ByteReader(input, options.label ?? 'xbstream');
  const files = new Map<SafePath, FileState>();
  let chunk = 0;
  let context: Where = {};
  try {
    for (;;) {
      const streamOffset = reader.offset;
      context = { chunk: chunk + 1, offset: streamOffset };
      const prefixBytes = await reader.readExact(PREFIX_BYTES, 'a chunk header', true);
      if (prefixBytes === undefined) break;
      chunk += 1;
      const pos: ChunkPosition = { chunk, streamOffset };
      const where = { chunk, offset: streamOffset };
      context = where;
      const prefix = decodePrefix(prefixBytes, streamOffset, chunk);
      const rawPath = await readExactAt(reader, prefix.pathLength, 'a chunk path', where);
      const rawName = Buffer.from(rawPath).toString('utf8');
      context = { ...where, path: rawName };
      const rewrite = (prefix.flags & FLAG_REWRITE) !== 0;

      switch (prefix.type) {
        case ChunkType.Payload: {
          const path = safePath(rawPath, where);
          const tail = await readExactAt(reader, PAYLOAD_TAIL_BYTES, 'a payload header', { ...where, path });
          const length = boundedU64(tail, 0, maxPayload, 'payload length', { ...where, path });
          const offset = boundedU64(tail, 8, Number.MAX_SAFE_INTEGER, 'payload offset', { ...where, path });
          const file = openFor(files, path, rewrite, where);
          if (offset !== file.expected) {
            throw new FormatError(
              'E_XBSTREAM_ORDER',
              `out-of-order or overlapping chunk: offset ${offset}, expected ${file.expected}`,
              { ...where, path },
            );
          }
          yield* payloadEvents(reader, path, offset, length, readU32(tail, 16), rewrite, pos, maxEvent);
          file.expected = offset + length;
          break;
        }
        case ChunkType.Eof: {
          const path = safePath(rawPath, where);
          const file = files.get(path);
          if (file === undefined) files.set(path, { expected: 0, open: false });
          else if (file.open) file.open = false;
          else if (!rewrite) throw reappeared(path, where);
          yield { type: 'eof', path, rewrite, ...pos };
          break;
        }
        case ChunkType.Sparse: {
          const path = safePath(rawPath, where);
          if (await isMariadbSeek(reader)) {
            const tail = await readExactAt(reader, 8, 'a seek offset', { ...where, path });
            const offset = boundedU64(tail, 0, Number.MAX_SAFE_INTEGER, 'seek offset', { ...where, path });
            const file = openFor(files, path, rewrite, where);
            file.expected = offset;
            yield { type: 'seek', path, offset, rewrite, ...pos };
          } else {
            const file = openFor(files, path, rewrite, where);
            file.expected = yield* sparseEvents(reader, path, file.expected, rewrite, pos, maxPayload, maxEvent);
          }
          break;
        }
        case ChunkType.Remove: {
          const path = safePath(rawPath, where);
          refuseIfOpen(files, path, 'remove', where);
          files.delete(path);
          yield { type: 'remove', path, ...pos };
          break;
        }
        case ChunkType.Rename: {
          const path = safePath(rawPath, where);
          const lengthBytes = await readExactAt(reader, 4, 'a rename target length', { ...where, path });
          const targetLength = readU32(lengthBytes, 0);
          if (targetLength > MAX_PATH_BYTES) {
            throw new FormatError('E_XBSTREAM_PATH_LENGTH', `rename target length ${targetLength} is too large`, {
              ...where,
              path,
            });
          }
          const to = safePath(await readExactAt(reader, targetLength, 'a rename target', { ...where, path }), where);
          refuseIfOpen(files, path, 'rename', where);
          refuseIfOpen(files, to, 'rename', where);
          files.delete(path);
          files.delete(to);
          yield { type: 'rename', path, to, ...pos };
          break;
        }
        default: {
          if ((prefix.flags & FLAG_IGNORABLE) === 0) {
            throw new FormatError('E_XBSTREAM_TYPE', `unknown chunk type ${typeName(prefix.type)}`, {
              ...where,
              path: rawName,
            });
          }
          // The format has no generic length: an ignorable chunk can only be skipped if laid out like P.
          const tail = await readExactAt(reader, PAYLOAD_TAIL_BYTES, 'an ignorable chunk header', where);
          const length = boundedU64(tail, 0, maxPayload, 'payload length', where);
          await reader.skip(length, 'an ignorable chunk payload');
          yield { type: 'skipped', path: rawName, chunkType: prefix.type, ...pos };
        }
      }
    }
    const unfinished = [...files].filter(([, f]) => f.open).map(([p]) => p);
    if (unfinished.length > 0) {
      const list = unfinished.slice(0, 10).map((p) => JSON.stringify(p)).join(', ');
      throw new FormatError(
        'E_XBSTREAM_UNFINISHED',
        `stream ended before ${unfinished.length} file(s) were complete (no E chunk): ${list}${unfinished.length > 10 ? ', ...' : ''}`,
        { path: unfinished[0] as string, chunk, offset: reader.offset },
      );
    }
  } catch (err) {
    await reader.close().catch(() => undefined);
    throw withContext(err, context);
  }
}

async function* payloadEvents(
  reader: ByteReader,
  path: SafePath,
  offset: number,
  length: number,
  expectedCrc: number,
  rewrite: boolean,
  pos: ChunkPosition,
  maxEvent: number,
): AsyncGenerator<XbstreamEvent> {
  let crc = 0;
  let done = 0;
  if (length === 0) yield { type: 'data', path, offset, data: new Uint8Array(0), rewrite, ...pos };
  while (done < length) {
    const piece = await reader.readPiece(Math.min(maxEvent, length - done), 'a chunk payload');
    crc = crc32(piece, crc);
    yield { type: 'data', path, offset: offset + done, data: piece, rewrite, ...pos };
    done += piece.length;
  }
  if (crc !== expectedCrc) {
    throw new IntegrityError(
      'E_XBSTREAM_CRC',
      `checksum mismatch: expected 0x${hex32(expectedCrc)}, computed 0x${hex32(crc)}`,
      { path, chunk: pos.chunk, offset: pos.streamOffset },
    );
  }
}

/**
 * Percona's sparse chunk: a map of (skip, len) runs, then the payload; the CRC covers map and payload.
 * Returns the file's next expected offset.
 */
async function* sparseEvents(
  reader: ByteReader,
  path: SafePath,
  expected: number,
  rewrite: boolean,
  pos: ChunkPosition,
  maxPayload: number,
  maxEvent: number,
): AsyncGenerator<XbstreamEvent, number> {
  const where = { path, chunk: pos.chunk, offset: pos.streamOffset };
  const tail = await readExactAt(reader, 24, 'a sparse chunk header', where);
  const mapCount = readU32(tail, 0);
  if (mapCount > MAX_SPARSE_MAP_ENTRIES) {
    throw new FormatError('E_XBSTREAM_SPARSE', `sparse map of ${mapCount} entries is too large`, where);
  }
  const length = boundedU64(tail, 4, maxPayload, 'sparse payload length', where);
  const offset = boundedU64(tail, 12, Number.MAX_SAFE_INTEGER, 'sparse offset', where);
  const expectedCrc = readU32(tail, 20);
  if (offset !== expected) {
    throw new FormatError('E_XBSTREAM_ORDER', `out-of-order or overlapping chunk: offset ${offset}, expected ${expected}`, where);
  }
  const map = Buffer.from(await readExactAt(reader, mapCount * 8, 'a sparse map', where));
  let crc = crc32(map);
  let position = offset;
  let mapped = 0;
  for (let i = 0; i < mapCount; i++) {
    const skip = map.readUInt32LE(i * 8);
    const runLength = map.readUInt32LE(i * 8 + 4);
    position += skip;
    mapped += runLength;
    if (mapped > length) throw new FormatError('E_XBSTREAM_SPARSE', 'sparse map describes more bytes than the payload holds', where);
    let done = 0;
    if (runLength === 0) yield { type: 'data', path, offset: position, data: new Uint8Array(0), rewrite, ...pos };
    while (done < runLength) {
      const piece = await reader.readPiece(Math.min(maxEvent, runLength - done), 'a sparse payload');
      crc = crc32(piece, crc);
      yield { type: 'data', path, offset: position + done, data: piece, rewrite, ...pos };
      done += piece.length;
    }
    position += runLength;
  }
  if (mapped !== length) throw new FormatError('E_XBSTREAM_SPARSE', `sparse map covers ${mapped} of ${length} payload bytes`, where);
  if (crc !== expectedCrc) {
    throw new IntegrityError('E_XBSTREAM_CRC', `checksum mismatch: expected 0x${hex32(expectedCrc)}, computed 0x${hex32(crc)}`, where);
  }
  return position;
}

/**
 * Byte 0x53 is a MariaDB seek (8-byte offset, then the next chunk) or a Percona sparse chunk (24-byte
 * header, map, payload). A seek is followed by the magic or the end of input; in a sparse chunk those
 * bytes hold the upper half of the payload length, which would be far beyond any sane cap.
 */
async function isMariadbSeek(reader: ByteReader): Promise<boolean> {
  const ahead = await reader.peek(8 + MAGIC.length);
  if (ahead.length === 8) return true;
  return ahead.length === 8 + MAGIC.length && Buffer.from(ahead.subarray(8)).equals(MAGIC);
}

function openFor(files: Map<SafePath, FileState>, path: SafePath, rewrite: boolean, where: { chunk: number; offset: number }): FileState {
  let file = files.get(path);
  if (file === undefined) {
    file = { expected: 0, open: true };
    files.set(path, file);
  } else if (!file.open) {
    if (!rewrite) throw reappeared(path, where);
    file.expected = 0;
    file.open = true;
  }
  return file;
}

function refuseIfOpen(files: Map<SafePath, FileState>, path: SafePath, what: string, where: { chunk: number; offset: number }): void {
  if (files.get(path)?.open === true) {
    throw new FormatError('E_XBSTREAM_OPEN_FILE', `cannot ${what} a file that is still being written`, { ...where, path });
  }
}

function reappeared(path: SafePath, where: { chunk: number; offset: number }): FormatError {
  return new FormatError('E_XBSTREAM_REPEAT', 'file appears again after its end (E) chunk without the rewrite flag', {
    ...where,
    path,
  });
}

function safePath(raw: Uint8Array, where: Where): SafePath {
  try {
    return toSafePath(raw, MAX_PATH_BYTES);
  } catch (err) {
    throw withContext(err, where);
  }
}

async function readExactAt(reader: ByteReader, n: number, what: string, where: Where): Promise<Uint8Array> {
  try {
    return (await reader.readExact(n, what)) as Uint8Array;
  } catch (err) {
    throw withContext(err, where);
  }
}

function boundedU64(bytes: Uint8Array, at: number, max: number, what: string, where: Where): number {
  const value = readU64(bytes, at);
  if (value > BigInt(max)) throw new FormatError('E_XBSTREAM_LENGTH', `${what} ${value} exceeds the limit of ${max}`, where);
  return Number(value);
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
