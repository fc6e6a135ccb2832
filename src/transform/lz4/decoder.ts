/**
 * Decoding a `.lz4` file: any concatenation of LZ4 frames (and skippable frames), from sluice,
 * XtraBackup or the `lz4` CLI. lz4-napi decodes single blocks but reads frames only whole from memory,
 * so the frame layer is ours: header (version, reserved bits, block size code 4..7, header checksum),
 * blocks (stored or compressed, optional block checksums), end mark, optional content checksum and
 * content size, all checked.
 *
 * Blocks of frames with independent blocks are decoded in batches of about 1 MiB in and at most 4 MiB
 * out on the worker pool,
 * in parallel and in order; frames with linked blocks go one block at a time with the previous 64 KiB
 * as dictionary. Output per block is capped by the frame's block size (Percona writes up to 1204 KiB
 * for block size code 6; that is tolerated).
 */
import { ByteReader } from '../../bytes/byte-reader.js';
import { FormatError, IntegrityError } from '../../errors.js';
import { concatBytes, transferOf } from '../../bytes/copies.js';
import { codecError, locate } from '../codec-errors.js';
import { Xxh32, xxh32 } from '../checksum/xxh32.js';
import { type BlockPool, orderedMap, streamWindow } from '../pool/block-pool.js';
import { LZ4_BLOCK_BYTES, LZ4_FRAME_MAGIC } from './frame-format.js';
import type { Lz4BlocksJob } from '../pool/jobs.js';

const SKIPPABLE_START = 0x184d2a50;
const LEGACY_MAGIC = 0x184c2102;
/** Percona's writer lets code-6 blocks reach 1204 KiB (a typo for 1 MiB upstream). */
const PERCONA_CODE6_BLOCK_BYTES = 1204 << 10;
const BATCH_BYTES = 1 << 20;
const BATCH_BLOCKS = 64;
/**
 * Output a batch may decode to (its blocks' maximum sizes added up): batches were cut by input bytes
 * only, so 1 MiB of highly compressible 4 MiB blocks became one job of 64 blocks, 256 MiB out (`lz4 -1`
 * of SQL text: 400 MiB peak RSS for a 256 MiB file, growing with the file).
 */
const BATCH_OUTPUT_BYTES = 4 << 20;
const DICTIONARY_BYTES = 64 << 10;
const STORED_BIT = 0x80000000;

export interface Lz4FrameHeader {
  headerBytes: number;
  independent: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
  contentBytes?: number;
  blockCode: number;
  maxBlockBytes: number;
}

/** The number of descriptor bytes (FLG to HC) a frame has, from its FLG byte. */
export function lz4DescriptorBytes(flg: number): number {
  return 3 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0);
}

/** Parses and checks a frame descriptor (FLG, BD, optional fields, HC); a string says what is wrong. */
export function decodeLz4Descriptor(d: Uint8Array): Lz4FrameHeader | string {
  const flg = d[0]!;
  const bd = d[1]!;
  if (flg >> 6 !== 1) return `unsupported LZ4 frame version ${flg >> 6}`;
  if ((flg & 0x02) !== 0) return 'the reserved bit of FLG is set';
  if ((bd & 0x8f) !== 0) return 'reserved bits of BD are set';
  const blockCode = (bd >> 4) & 7;
  const maxBlockBytes = LZ4_BLOCK_BYTES[blockCode];
  if (maxBlockBytes === undefined) return `block size code ${blockCode} is not 4..7`;
  if ((flg & 0x01) !== 0) return 'the frame needs a dictionary, which sluice does not have';
  const n = lz4DescriptorBytes(flg);
  if (d.length < n) return `need ${n} descriptor bytes`;
  const hc = (xxh32(d.subarray(0, n - 1)) >>> 8) & 0xff;
  if (hc !== d[n - 1]) return `header checksum is 0x${d[n - 1]!.toString(16)}, expected 0x${hc.toString(16)}`;
  let contentBytes: number | undefined;
  if ((flg & 0x08) !== 0) {
    const big = new DataView(d.buffer, d.byteOffset + 2, 8).getBigUint64(0, true);
    contentBytes = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
  }
  return {
    headerBytes: 4 + n,
    independent: (flg & 0x20) !== 0,
    blockChecksum: (flg & 0x10) !== 0,
    contentChecksum: (flg & 0x04) !== 0,
    ...(contentBytes === undefined ? {} : { contentBytes }),
    blockCode,
    maxBlockBytes,
  };
}

type Unit =
  | {
      kind: 'blocks';
      frame: number;
      offset: number;
      linked: boolean;
      job: Lz4BlocksJob;
      /** Offset of each block in the file, for messages. */
      offsets: number[];
    }
  | { kind: 'end'; frame: number; offset: number; contentChecksum?: number; contentBytes?: number };

function u32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
}

async function* scanFrames(reader: ByteReader, path: string): AsyncGenerator<Unit> {
  let frame = 0;
  while (!(await reader.atEnd())) {
    const offset = reader.offset;
    const name = `LZ4 frame ${frame + 1}`;
    const magic = u32((await reader.readExact(4, `the magic number of ${name}`)) as Uint8Array);
    if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_START) {
      const size = u32((await reader.readExact(4, 'the size of a skippable frame')) as Uint8Array);
      await reader.skip(size, 'a skippable frame');
      continue;
    }
    if (magic === LEGACY_MAGIC) {
      throw new FormatError('E_LZ4_LEGACY', 'the legacy LZ4 format (lz4 -l) is not supported; decode it with lz4 -d', {
        path,
        offset,
      });
    }
    if (magic !== LZ4_FRAME_MAGIC) {
      const hex = `0x${magic.toString(16).padStart(8, '0')}`;
      throw new FormatError(
        'E_LZ4_MAGIC',
        frame === 0 ? `not LZ4 data: it starts with ${hex}, not the LZ4 frame magic number` : `${name} starts with ${hex}, not the LZ4 frame magic number`,
        { path, offset },
      );
    }
    const flg = ((await reader.readExact(1, `the header of ${name}`)) as Uint8Array)[0]!;
    const rest = (await reader.readExact(lz4DescriptorBytes(flg) - 1, `the header of ${name}`)) as Uint8Array;
    const header = decodeLz4Descriptor(concatBytes([Uint8Array.of(flg), rest]));
    if (typeof header === 'string') throw new FormatError('E_LZ4_HEADER', `${name}: ${header}`, { path, offset });
    const maxBlockBytes = header.blockCode === 6 ? PERCONA_CODE6_BLOCK_BYTES : header.maxBlockBytes;
    let parts: Uint8Array[] = [];
    let sizes: number[] = [];
    let stored: boolean[] = [];
    let checksums: number[] = [];
    let offsets: number[] = [];
    let batchBytes = 0;
    let batchOffset = reader.offset;
    const flush = (): Unit => {
      const job: Lz4BlocksJob = {
        kind: 'lz4-blocks',
        input: concatBytes(parts, batchBytes),
        sizes,
        stored,
        maxBlockBytes,
        ...(header.blockChecksum ? { checksums } : {}),
      };
      const unit: Unit = { kind: 'blocks', frame, offset: batchOffset, linked: !header.independent, job, offsets };
      parts = [];
      sizes = [];
      stored = [];
      checksums = [];
      offsets = [];
      batchBytes = 0;
      return unit;
    };
    let block = 0;
    for (;;) {
      const blockOffset = reader.offset;
      const word = u32((await reader.readExact(4, `block ${block + 1} size of ${name}`)) as Uint8Array);
      if (word === 0) break;
      const size = (word & ~STORED_BIT) >>> 0;
      if (size > maxBlockBytes) {
        throw new FormatError('E_LZ4_BLOCK', `${name}, block ${block + 1}: ${size} bytes, more than the frame's ${maxBlockBytes}`, {
          path,
          offset: blockOffset,
        });
      }
      if (sizes.length === 0) batchOffset = blockOffset;
      for await (const piece of reader.stream(size, `block ${block + 1} of ${name}`)) {
        parts.push(piece);
        batchBytes += piece.length;
      }
      sizes.push(size);
      stored.push((word & STORED_BIT) !== 0);
      offsets.push(blockOffset);
      if (header.blockChecksum) checksums.push(u32((await reader.readExact(4, `block ${block + 1} checksum of ${name}`)) as Uint8Array));
      block += 1;
      const full = batchBytes >= BATCH_BYTES || sizes.length >= BATCH_BLOCKS || (sizes.length + 1) * maxBlockBytes > BATCH_OUTPUT_BYTES;
      if (!header.independent || full) yield flush();
    }
    if (sizes.length > 0) yield flush();
    const end: Unit = { kind: 'end', frame, offset: reader.offset };
    if (header.contentChecksum) end.contentChecksum = u32((await reader.readExact(4, `the content checksum of ${name}`)) as Uint8Array);
    if (header.contentBytes !== undefined) end.contentBytes = header.contentBytes;
    yield end;
    frame += 1;
  }
}

export interface Lz4DecodeOptions {
  pool: BlockPool;
  path: string;
}

export async function* decodeLz4(content: AsyncIterable<Uint8Array>, options: Lz4DecodeOptions): AsyncGenerator<Uint8Array> {
  const { pool, path } = options;
  const reader = new ByteReader(content, path);
  let hasher = new Xxh32();
  let frameBytes = 0;
  let dictionary: Uint8Array | undefined;

  const failure = (err: unknown, unit: Extract<Unit, { kind: 'blocks' }>): unknown => {
    const item = err instanceof Error && 'failure' in err ? (err as { failure: { item?: number } }).failure.item : undefined;
    const block = item === undefined ? '' : `, block at ${unit.offsets[item] ?? unit.offset}`;
    return codecError(err, `LZ4 frame ${unit.frame + 1}${block}`, { path, offset: unit.offsets[item ?? 0] ?? unit.offset });
  };

  async function linkedBlock(unit: Extract<Unit, { kind: 'blocks' }>): Promise<Uint8Array> {
    const job: Lz4BlocksJob = dictionary === undefined ? unit.job : { ...unit.job, dictionary };
    try {
      const out = (await pool.run(job, transferOf(unit.job.input))).output;
      const joined = dictionary === undefined ? out : concatBytes([dictionary, out]);
      dictionary = joined.slice(Math.max(0, joined.length - DICTIONARY_BYTES));
      return out;
    } catch (err) {
      throw failure(err, unit);
    }
  }

  try {
    const results = orderedMap(scanFrames(reader, path), streamWindow(pool), async (unit) => {
      if (unit.kind === 'end') return unit;
      if (unit.linked) return () => linkedBlock(unit);
      try {
        return (await pool.run(unit.job, transferOf(unit.job.input))).output;
      } catch (err) {
        throw failure(err, unit);
      }
    });
    for await (const r of results) {
      let out: Uint8Array;
      if (r instanceof Uint8Array) out = r;
      else if (typeof r === 'function') out = await r();
      else {
        const where = { path, offset: r.offset };
        if (r.contentBytes !== undefined && r.contentBytes !== frameBytes) {
          throw new IntegrityError('E_LZ4_SIZE', `LZ4 frame ${r.frame + 1} declares ${r.contentBytes} bytes but holds ${frameBytes}`, where);
        }
        if (r.contentChecksum !== undefined && hasher.digest() !== r.contentChecksum) {
          throw new IntegrityError('E_LZ4_CHECKSUM', `LZ4 frame ${r.frame + 1}: content checksum does not match`, where);
        }
        hasher = new Xxh32();
        frameBytes = 0;
        dictionary = undefined;
        continue;
      }
      hasher.update(out);
      frameBytes += out.length;
      if (out.length > 0) yield out;
    }
  } catch (err) {
    throw locate(err, path);
  } finally {
    await reader.close();
  }
}
