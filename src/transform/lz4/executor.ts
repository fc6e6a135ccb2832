/**
 * The LZ4 jobs of a codec worker: compress one block into one frame (`docs/formats/file-encodings.md`),
 * and decode a batch of blocks of a frame the decoder has parsed.
 */
import { createRequire } from 'node:module';
import { xxh32 } from '../checksum/xxh32.js';
import { errorText, fail } from '../pool/job-failure.js';
import type { CodecResult, Lz4BlocksJob, Lz4CompressJob } from '../pool/jobs.js';
import { concatOwned, ownedBytes, scratchOf } from '../pool/owned-bytes.js';
import { decodeLz4Block } from './block-decode.js';
import { LZ4_BLOCK_BYTES, LZ4_FLG_SLUICE, LZ4_FRAME_MAGIC, LZ4_STORED_BIT, lz4OutputBound } from './frame-format.js';

const require = createRequire(import.meta.url);

/**
 * The LZ4 block compressor of the `lz4` package (the reference C library, native): it compresses into a
 * buffer we give it, at an offset, and gives up (0) when the block would not fit. lz4-napi's compressSync
 * returned a new Buffer per call and kept native memory for every incompressible block, so a compressed
 * backup's memory grew with its input (figures: "Decision log" in docs/architecture.md).
 */
interface Lz4Reference {
  /** LZ4_compress_default into output[start, end): the compressed size, or 0 when it does not fit. */
  encodeBlock(input: Buffer, output: Buffer, start: number, end: number): number;
}
let lz4Reference: Lz4Reference | undefined;
const lz4Encoder = (): Lz4Reference => (lz4Reference ??= require('lz4') as Lz4Reference);

export function lz4Compress(job: Lz4CompressJob): CodecResult {
  const blockBytes = LZ4_BLOCK_BYTES[job.blockCode];
  if (blockBytes === undefined) fail('E_LZ4_BLOCK_SIZE', `LZ4 block size code ${job.blockCode} is not 4..7`);
  const input = job.input;
  const bound = lz4OutputBound(input.length, job.blockCode);
  // straight into the caller's reusable buffer, else into the scratch and then a copy of exactly the frame
  const given = job.output !== undefined && job.output.length >= bound ? job.output : undefined;
  const target = given ?? scratchOf(bound);
  const frame = Buffer.from(target.buffer, target.byteOffset, target.byteLength);
  frame.writeUInt32LE(LZ4_FRAME_MAGIC, 0);
  frame[4] = LZ4_FLG_SLUICE;
  frame[5] = job.blockCode << 4;
  frame.writeBigUInt64LE(BigInt(input.length), 6);
  frame[14] = (xxh32(frame.subarray(4, 14)) >>> 8) & 0xff;
  let at = 15;
  const encoder = lz4Encoder();
  for (let from = 0; from < input.length; from += blockBytes) {
    const piece = input.subarray(from, Math.min(from + blockBytes, input.length));
    // room for one byte less than the piece: a block that does not shrink is stored instead, so the
    // output never grows by more than the framing (which is what the bound reserves)
    const packed = encoder.encodeBlock(Buffer.from(piece.buffer, piece.byteOffset, piece.length), frame, at + 4, at + 4 + piece.length - 1);
    if (packed > 0) {
      frame.writeUInt32LE(packed, at);
      at += 4 + packed;
    } else {
      frame.writeUInt32LE((piece.length | LZ4_STORED_BIT) >>> 0, at);
      frame.set(piece, at + 4);
      at += 4 + piece.length;
    }
  }
  frame.writeUInt32LE(0, at); // end mark, then the content checksum
  frame.writeUInt32LE(xxh32(input), at + 4);
  at += 8;
  if (given !== undefined) return { output: given.subarray(0, at), recycled: job.input };
  const output = ownedBytes(at); // always a copy: the scratch is reused by the next job and never leaves
  output.set(target.subarray(0, at));
  return { output, recycled: job.input };
}

export function lz4Blocks(job: Lz4BlocksJob): CodecResult {
  const outputs: Uint8Array[] = [];
  let total = 0;
  let at = 0;
  for (let i = 0; i < job.sizes.length; i++) {
    const size = job.sizes[i]!;
    const data = job.input.subarray(at, at + size);
    at += size;
    const expected = job.checksums?.[i];
    if (expected !== undefined && xxh32(data) !== expected) {
      fail('E_LZ4_CHECKSUM', 'LZ4 block checksum does not match', i, true);
    }
    let out: Uint8Array;
    if (job.stored[i] === true) {
      out = data;
    } else {
      try {
        out = decodeLz4Block(data, job.maxBlockBytes, job.dictionary);
      } catch (err) {
        fail('E_LZ4_CORRUPT', `LZ4 block is corrupt: ${errorText(err)}`, i, true);
      }
    }
    if (out.length > job.maxBlockBytes) {
      fail('E_LZ4_CORRUPT', `LZ4 block holds ${out.length} bytes, more than the frame's ${job.maxBlockBytes}`, i);
    }
    outputs.push(out);
    total += out.length;
  }
  return { output: concatOwned(outputs, total) };
}
