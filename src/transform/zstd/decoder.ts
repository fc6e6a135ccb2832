/**
 * Decoding a `.zst` file: any concatenation of zstd frames (and skippable frames), from sluice,
 * XtraBackup or the `zstd` CLI. The frame layout is walked here, block header by block header
 * (cheap, and it lets errors name the frame and its offset); the decoding itself runs on workers:
 *
 * - a frame that declares its content size (up to 16 MiB) and fits in 17 MiB is decoded whole by any
 *   worker, several frames in parallel: that is every frame sluice and XtraBackup write;
 * - any other frame (the `zstd` CLI writes one frame for a whole file, often without a size) streams
 *   through a decoder pinned to one worker, in 1 MiB steps of input and at most 4 MiB of output per
 *   step, so neither side ever holds more than that, whatever the frame expands to.
 *
 * Hostile input: a wrong magic number, reserved bits or block types, blocks over 128 KiB, a dictionary
 * id, a content size that does not match, a checksum that does not match (libzstd checks it), a frame
 * cut short: each is an error naming the file, the frame number and its byte offset.
 */
import { ByteReader } from '../../bytes/byte-reader.js';
import { FormatError, IntegrityError } from '../../errors.js';
import { concatBytes, transferOf } from '../../bytes/copies.js';
import { codecError, locate } from '../codec-errors.js';
import { type BlockPool, orderedMap, streamWindow, type PinnedWorker } from '../pool/block-pool.js';

export const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_START = 0x184d2a50;
const BLOCK_MAX_BYTES = 128 << 10;
/** Frames up to this content size (declared in the header) are decoded in one job. */
export const ZSTD_WHOLE_FRAME_MAX_CONTENT = 16 << 20;
const WHOLE_FRAME_MAX_COMPRESSED = ZSTD_WHOLE_FRAME_MAX_CONTENT + (1 << 20);
const PIECE_BYTES = 1 << 20;
const STEP_OUTPUT_BYTES = 4 << 20;

export interface ZstdFrameHeader {
  headerBytes: number;
  contentBytes?: number;
  checksum: boolean;
  dictionaryId: number;
}

/** Parses the header after the magic number; `b` starts with the frame header descriptor. */
export function decodeZstdFrameHeader(b: Uint8Array): ZstdFrameHeader | string {
  const fhd = b[0]!;
  if ((fhd & 0x08) !== 0) return 'the reserved bit of the frame header is set';
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  const dictFlag = fhd & 3;
  const dictBytes = [0, 1, 2, 4][dictFlag]!;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  const headerBytes = 1 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
  if (b.length < headerBytes) return `need ${headerBytes} header bytes`;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 1 + (singleSegment ? 0 : 1);
  let dictionaryId = 0;
  if (dictBytes === 1) dictionaryId = b[at]!;
  else if (dictBytes === 2) dictionaryId = view.getUint16(at, true);
  else if (dictBytes === 4) dictionaryId = view.getUint32(at, true);
  at += dictBytes;
  let contentBytes: number | undefined;
  if (fcsBytes === 1) contentBytes = b[at]!;
  else if (fcsBytes === 2) contentBytes = view.getUint16(at, true) + 256;
  else if (fcsBytes === 4) contentBytes = view.getUint32(at, true);
  else if (fcsBytes === 8) {
    const big = view.getBigUint64(at, true);
    contentBytes = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
  }
  return { headerBytes, ...(contentBytes === undefined ? {} : { contentBytes }), checksum: (fhd & 0x04) !== 0, dictionaryId };
}

export function zstdHeaderBytes(fhd: number): number {
  const singleSegment = (fhd & 0x20) !== 0;
  const fcsFlag = fhd >> 6;
  return 1 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + (fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!);
}

type Unit =
  | { kind: 'frame'; index: number; offset: number; bytes: Uint8Array; contentBytes: number }
  | { kind: 'piece'; index: number; offset: number; bytes: Uint8Array; first: boolean; last: boolean; contentBytes?: number };

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

async function* scanFrames(reader: ByteReader, path: string): AsyncGenerator<Unit> {
  let index = 0;
  while (!(await reader.atEnd())) {
    const offset = reader.offset;
    const where = { path, offset };
    const frame = `zstd frame ${index + 1}`;
    const magicBytes = (await reader.readExact(4, `the magic number of ${frame}`)) as Uint8Array;
    const magic = new DataView(magicBytes.buffer, magicBytes.byteOffset, 4).getUint32(0, true);
    if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_START) {
      const sizeBytes = (await reader.readExact(4, 'the size of a skippable frame')) as Uint8Array;
      await reader.skip(new DataView(sizeBytes.buffer, sizeBytes.byteOffset, 4).getUint32(0, true), 'a skippable frame');
      continue;
    }
    if (magic !== ZSTD_MAGIC) {
      throw new FormatError(
        'E_ZSTD_MAGIC',
        index === 0
          ? `not zstd data: it starts with ${hex32(magic)}, not the zstd magic number ${hex32(ZSTD_MAGIC)}`
          : `${frame} starts with ${hex32(magic)}, not the zstd magic number (garbage after the last frame?)`,
        where,
      );
    }
    const fhd = ((await reader.readExact(1, `the header of ${frame}`)) as Uint8Array)[0]!;
    const rest = (await reader.readExact(zstdHeaderBytes(fhd) - 1, `the header of ${frame}`)) as Uint8Array;
    const headerTail = concatBytes([Uint8Array.of(fhd), rest]);
    const header = decodeZstdFrameHeader(headerTail);
    if (typeof header === 'string') throw new FormatError('E_ZSTD_HEADER', `${frame}: ${header}`, where);
    if (header.dictionaryId !== 0) {
      throw new FormatError('E_ZSTD_DICTIONARY', `${frame} needs zstd dictionary ${header.dictionaryId}, which sluice does not have`, where);
    }
    const whole = header.contentBytes !== undefined && header.contentBytes <= ZSTD_WHOLE_FRAME_MAX_CONTENT;
    let parts: Uint8Array[] = [magicBytes.slice(), headerTail];
    let partsBytes = 4 + headerTail.length;
    let partsOffset = offset;
    let streaming = !whole;
    let first = true;
    const flushPiece = (last: boolean): Unit => {
      const unit: Unit = {
        kind: 'piece',
        index,
        offset: partsOffset,
        bytes: concatBytes(parts, partsBytes),
        first,
        last,
        ...(header.contentBytes === undefined ? {} : { contentBytes: header.contentBytes }),
      };
      first = false;
      partsOffset += partsBytes;
      parts = [];
      partsBytes = 0;
      return unit;
    };
    let block = 0;
    for (;;) {
      const blockOffset = reader.offset;
      const bh = (await reader.readExact(3, `block ${block + 1} header of ${frame}`)) as Uint8Array;
      const h = bh[0]! | (bh[1]! << 8) | (bh[2]! << 16);
      const last = (h & 1) !== 0;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (type === 3) {
        throw new FormatError('E_ZSTD_BLOCK', `${frame}, block ${block + 1}: reserved block type`, { path, offset: blockOffset });
      }
      if (size > BLOCK_MAX_BYTES) {
        throw new FormatError('E_ZSTD_BLOCK', `${frame}, block ${block + 1}: ${size} bytes, more than zstd's 128 KiB`, {
          path,
          offset: blockOffset,
        });
      }
      parts.push(bh.slice());
      partsBytes += 3;
      const bodyBytes = type === 1 ? 1 : size;
      for await (const piece of reader.stream(bodyBytes, `block ${block + 1} of ${frame}`)) {
        parts.push(piece);
        partsBytes += piece.length;
      }
      block += 1;
      if (!streaming && partsBytes > WHOLE_FRAME_MAX_COMPRESSED) streaming = true;
      if (streaming && partsBytes >= PIECE_BYTES && !last) yield flushPiece(false);
      if (last) break;
    }
    if (header.checksum) {
      const sum = (await reader.readExact(4, `the checksum of ${frame}`)) as Uint8Array;
      parts.push(sum.slice());
      partsBytes += 4;
    }
    if (streaming) yield flushPiece(true);
    else yield { kind: 'frame', index, offset, bytes: concatBytes(parts, partsBytes), contentBytes: header.contentBytes as number };
    index += 1;
  }
}

export interface ZstdDecodeOptions {
  pool: BlockPool;
  path: string;
}

export async function* decodeZstd(content: AsyncIterable<Uint8Array>, options: ZstdDecodeOptions): AsyncGenerator<Uint8Array> {
  const { pool, path } = options;
  const reader = new ByteReader(content, path);
  let pinned: PinnedWorker | undefined;
  let frameOutput = 0;

  async function* streamPiece(unit: Extract<Unit, { kind: 'piece' }>): AsyncGenerator<Uint8Array> {
    pinned ??= pool.pinWorker();
    const frame = `zstd frame ${unit.index + 1}`;
    const where = { path, offset: unit.offset };
    if (unit.first) frameOutput = 0;
    let input: Uint8Array | undefined = unit.bytes;
    let done = false;
    let idleSteps = 0;
    for (;;) {
      let result;
      try {
        result = await pinned.run(
          { kind: 'zstd-stream', pin: pinned.id, ...(input === undefined ? {} : { input }), maxOutput: STEP_OUTPUT_BYTES },
          input === undefined ? [] : transferOf(input),
        );
      } catch (err) {
        throw codecError(err, frame, where);
      }
      input = undefined;
      frameOutput += result.output.length;
      if (result.output.length > 0) {
        idleSteps = 0;
        yield result.output;
      } else if (++idleSteps > 2 && (result.pendingInput ?? 0) > 0) {
        throw new IntegrityError('E_ZSTD_CORRUPT', `${frame}: the decoder stopped making progress`, where);
      }
      if (result.frameDone === true) {
        done = true;
        if (!unit.last || (result.pendingInput ?? 0) > 0) {
          throw new IntegrityError('E_ZSTD_CORRUPT', `${frame} ends before its last block: the frame is corrupt`, where);
        }
        break;
      }
      if ((result.pendingInput ?? 0) === 0 && result.output.length < STEP_OUTPUT_BYTES) break;
    }
    if (unit.last) {
      if (!done) throw new IntegrityError('E_ZSTD_CORRUPT', `${frame} is incomplete: the decoder expected more data`, where);
      if (unit.contentBytes !== undefined && frameOutput !== unit.contentBytes) {
        throw new IntegrityError(
          'E_ZSTD_SIZE',
          `${frame} declares ${unit.contentBytes} bytes but decodes to ${frameOutput}`,
          where,
        );
      }
    }
  }

  try {
    const results = orderedMap(scanFrames(reader, path), streamWindow(pool), async (unit) => {
      if (unit.kind === 'piece') return () => streamPiece(unit);
      try {
        const job = { kind: 'zstd-frame', input: unit.bytes, contentBytes: unit.contentBytes } as const;
        return (await pool.run(job, transferOf(unit.bytes))).output;
      } catch (err) {
        throw codecError(err, `zstd frame ${unit.index + 1}`, { path, offset: unit.offset });
      }
    });
    for await (const r of results) {
      if (r instanceof Uint8Array) yield r;
      else yield* r();
    }
  } catch (err) {
    throw locate(err, path);
  } finally {
    await pinned?.close();
    await reader.close();
  }
}
