/**
 * What a codec worker does with each job. Pure functions of the job (plus per-thread codec contexts),
 * so tests can run them in-process too. Failures are thrown as JobFailureError with the index of the
 * block or chunk that failed; the transform turns that into a message naming the file and offset.
 */
import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32 } from '../../bytes/crc32.js';
import { adler32 } from '../checksum/adler32.js';
import { Xxh32, xxh32 } from '../checksum/xxh32.js';
import { decodeLz4Block } from '../lz4/block-decode.js';
import { decompressQuicklzBlock, QuicklzError } from '../qpress/quicklz.js';
import type {
  AgeStreamJob,
  CodecJob,
  CodecResult,
  JobFailure,
  Lz4BlocksJob,
  Lz4CompressJob,
  QuicklzBlocksJob,
  XbcryptChunksJob,
  ZstdCompressJob,
  ZstdFrameJob,
  ZstdStreamJob,
} from './jobs.js';

type ZstdBinding = typeof import('zstd-napi/binding.js');
const require = createRequire(import.meta.url);
let zstdBinding: ZstdBinding | undefined;
const zstd = (): ZstdBinding => (zstdBinding ??= require('zstd-napi/binding') as ZstdBinding);

/**
 * The LZ4 block compressor of the `lz4` package (the reference C library, native): it compresses into a
 * buffer we give it, at an offset, and gives up (0) when the block would not fit. lz4-napi's compressSync
 * returned a new Buffer per call and kept about the input's size of native memory for every
 * incompressible block (RSS +4.6 MiB per 4 MiB block, never returned, even after a full GC), so a
 * compressed backup's memory grew with its input.
 */
interface Lz4Reference {
  /** LZ4_compress_default into output[start, end): the compressed size, or 0 when it does not fit. */
  encodeBlock(input: Buffer, output: Buffer, start: number, end: number): number;
}
let lz4Reference: Lz4Reference | undefined;
const lz4Encoder = (): Lz4Reference => (lz4Reference ??= require('lz4') as Lz4Reference);

export class JobFailureError extends Error {
  constructor(readonly failure: JobFailure) {
    super(failure.message);
  }
}

function fail(code: string, message: string, item?: number, integrity = false): never {
  throw new JobFailureError({ code, message, ...(item === undefined ? {} : { item }), integrity });
}

/** A fresh buffer of exactly `n` bytes that owns its ArrayBuffer (safe to transfer; never a pool slice). */
export function ownedBytes(n: number): Uint8Array {
  return Buffer.allocUnsafeSlow(n); // not zero-filled: every byte is written before the buffer leaves
}

/** `parts` back to back in one buffer of their own (`total` is their summed length). */
function concatOwned(parts: Uint8Array[], total: number): Uint8Array {
  const output = ownedBytes(total);
  let pos = 0;
  for (const part of parts) {
    output.set(part, pos);
    pos += part.length;
  }
  return output;
}

function owned(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes;
  }
  const copy = ownedBytes(bytes.length);
  copy.set(bytes);
  return copy;
}

export function runJob(job: CodecJob): CodecResult {
  switch (job.kind) {
    case 'zstd-compress':
      return zstdCompress(job);
    case 'lz4-compress':
      return lz4Compress(job);
    case 'zstd-frame':
      return zstdFrame(job);
    case 'zstd-stream':
      return zstdStream(job);
    case 'session-close':
      zstdSessions.delete(job.session);
      return { output: new Uint8Array(0) };
    case 'lz4-blocks':
      return lz4Blocks(job);
    case 'quicklz-blocks':
      return quicklzBlocks(job);
    case 'age-seal':
    case 'age-open':
      return ageStream(job);
    case 'xbcrypt-open':
      return xbcryptOpen(job);
  }
}

/** Buffers in a result that can move back to the caller without copying. */
export function transferList(result: CodecResult): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const b of [result.output, result.recycled]) {
    if (b !== undefined && b.buffer instanceof ArrayBuffer && b.buffer.byteLength > 0 && !list.includes(b.buffer)) {
      list.push(b.buffer);
    }
  }
  return list;
}

// ---------------------------------------------------------------------------------------------- zstd

const compressors = new Map<number, InstanceType<ZstdBinding['CCtx']>>();
let scratch = new Uint8Array(0);

function scratchOf(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(n);
  return scratch;
}

function zstdCompress(job: ZstdCompressJob): CodecResult {
  const z = zstd();
  let cctx = compressors.get(job.level);
  if (cctx === undefined) {
    cctx = new z.CCtx();
    cctx.setParameter(z.CParameter.compressionLevel, job.level);
    cctx.setParameter(z.CParameter.checksumFlag, 1);
    cctx.setParameter(z.CParameter.contentSizeFlag, 1);
    compressors.set(job.level, cctx);
  }
  const bound = z.compressBound(job.input.length);
  if (job.output !== undefined && job.output.length >= bound) {
    // straight into the caller's reusable buffer: no allocation, no copy
    const n = cctx.compress2(job.output, job.input);
    return { output: job.output.subarray(0, n), recycled: job.input };
  }
  const dst = scratchOf(bound);
  const n = cctx.compress2(dst, job.input);
  const output = ownedBytes(n);
  output.set(dst.subarray(0, n));
  return { output, recycled: job.input };
}

/** ZSTD_COMPRESSBOUND: the largest zstd frame a block can become (what a caller's output buffer must hold). */
export function zstdOutputBound(inputBytes: number): number {
  const small = 128 << 10;
  return inputBytes + (inputBytes >>> 8) + (inputBytes < small ? (small - inputBytes) >>> 11 : 0);
}

let decompressor: InstanceType<ZstdBinding['DCtx']> | undefined;

function zstdError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function zstdFrame(job: ZstdFrameJob): CodecResult {
  const z = zstd();
  decompressor ??= new z.DCtx();
  const output = ownedBytes(job.contentBytes);
  let n: number;
  try {
    n = decompressor.decompress(output, job.input);
  } catch (err) {
    decompressor = undefined; // a context that failed mid-frame is not reused
    fail('E_ZSTD_CORRUPT', `zstd frame is corrupt: ${zstdError(err)}`, undefined, true);
  }
  if (n !== job.contentBytes) {
    fail('E_ZSTD_CORRUPT', `zstd frame declares ${job.contentBytes} bytes but holds ${n}`, undefined, true);
  }
  return { output };
}

interface StreamState {
  dctx: InstanceType<ZstdBinding['DCtx']>;
  pending: Uint8Array;
}
const zstdSessions = new Map<number, StreamState>();
const STREAM_STEP_BYTES = 1 << 20;

function zstdStream(job: ZstdStreamJob): CodecResult {
  const z = zstd();
  let state = zstdSessions.get(job.session);
  if (state === undefined) {
    state = { dctx: new z.DCtx(), pending: new Uint8Array(0) };
    zstdSessions.set(job.session, state);
  }
  let input = state.pending;
  if (job.input !== undefined && job.input.length > 0) {
    if (input.length === 0) input = job.input;
    else {
      const joined = new Uint8Array(input.length + job.input.length);
      joined.set(input);
      joined.set(job.input, input.length);
      input = joined;
    }
  }
  const pieces: Uint8Array[] = [];
  let produced = 0;
  let frameDone = false;
  const dst = scratchOf(STREAM_STEP_BYTES);
  for (;;) {
    const room = Math.min(dst.length, job.maxOutput - produced);
    if (room <= 0) break;
    let ret: number;
    let out: number;
    let used: number;
    try {
      [ret, out, used] = state.dctx.decompressStream(dst.subarray(0, room), input);
    } catch (err) {
      zstdSessions.delete(job.session);
      fail('E_ZSTD_CORRUPT', `zstd data is corrupt: ${zstdError(err)}`, undefined, true);
    }
    input = input.subarray(used);
    if (out > 0) {
      pieces.push(dst.slice(0, out));
      produced += out;
    }
    if (ret === 0) {
      frameDone = true;
      break;
    }
    // nothing more can come out until more input arrives
    if (out < room && input.length === 0) break;
    if (out === 0 && used === 0) break;
  }
  state.pending = input.length > 0 ? input.slice() : new Uint8Array(0);
  const output = ownedBytes(produced);
  let at = 0;
  for (const p of pieces) {
    output.set(p, at);
    at += p.length;
  }
  return { output, pendingInput: state.pending.length, frameDone };
}

// ----------------------------------------------------------------------------------------------- lz4

export const LZ4_FRAME_MAGIC = 0x184d2204;
export const LZ4_BLOCK_BYTES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };
/** FLG: version 01, independent blocks, no block checksums, content size, content checksum. */
export const LZ4_FLG_SLUICE = 0x6c;
const STORED_BIT = 0x80000000;

function lz4Compress(job: Lz4CompressJob): CodecResult {
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
      frame.writeUInt32LE((piece.length | STORED_BIT) >>> 0, at);
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

/** Largest LZ4 frame one block can become: stored blocks, with the header, size words and trailer. */
export function lz4OutputBound(inputBytes: number, blockCode: number): number {
  const blockBytes = LZ4_BLOCK_BYTES[blockCode] ?? 64 << 10;
  return 15 + inputBytes + 4 * Math.max(1, Math.ceil(inputBytes / blockBytes)) + 8;
}

function lz4Blocks(job: Lz4BlocksJob): CodecResult {
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
        fail('E_LZ4_CORRUPT', `LZ4 block is corrupt: ${zstdError(err)}`, i, true);
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

/** Streaming XXH32 for callers that hash across jobs (the LZ4 content checksum). */
export { Xxh32 };

// ---------------------------------------------------------------------------------------- qpress

function quicklzBlocks(job: QuicklzBlocksJob): CodecResult {
  const outputs: Uint8Array[] = [];
  let total = 0;
  let at = 0;
  for (let i = 0; i < job.sizes.length; i++) {
    const size = job.sizes[i]!;
    const block = job.input.subarray(at, at + size);
    at += size;
    const sum = adler32(block);
    if (sum !== job.adler32[i]) {
      fail(
        'E_QPRESS_CHECKSUM',
        `QuickLZ block Adler-32 is 0x${sum.toString(16)}, the archive says 0x${(job.adler32[i] ?? 0).toString(16)}`,
        i,
        true,
      );
    }
    try {
      const out = decompressQuicklzBlock(block, job.maxBlockBytes);
      outputs.push(out);
      total += out.length;
    } catch (err) {
      if (err instanceof QuicklzError) fail('E_QPRESS_CORRUPT', `QuickLZ block is corrupt: ${err.message}`, i, true);
      throw err;
    }
  }
  return { output: concatOwned(outputs, total) };
}

// ----------------------------------------------------------------------------------------------- age

/** age STREAM: 64 KiB plaintext chunks, each sealed with ChaCha20-Poly1305 and a 16-byte tag. */
export const AGE_CHUNK_BYTES = 64 * 1024;
export const AGE_TAG_BYTES = 16;
export const AGE_SEALED_CHUNK_BYTES = AGE_CHUNK_BYTES + AGE_TAG_BYTES;

/** The STREAM nonce: an 11-byte big-endian chunk counter, then 1 for the last chunk and 0 otherwise. */
export function ageNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  view.setUint32(3, Math.floor(counter / 0x100000000), false);
  view.setUint32(7, counter >>> 0, false);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function ageStream(job: AgeStreamJob): CodecResult {
  const input = job.input;
  const sealing = job.kind === 'age-seal';
  const inChunk = sealing ? AGE_CHUNK_BYTES : AGE_SEALED_CHUNK_BYTES;
  const chunks = Math.max(1, Math.ceil(input.length / inChunk));
  if (!sealing && input.length - (chunks - 1) * inChunk < AGE_TAG_BYTES) {
    fail('E_AGE_TRUNCATED', 'age payload ends inside a chunk tag (the file is truncated)', chunks - 1, true);
  }
  const outBytes = sealing ? input.length + chunks * AGE_TAG_BYTES : input.length - chunks * AGE_TAG_BYTES;
  const output = job.output !== undefined && job.output.length >= outBytes ? job.output.subarray(0, outBytes) : ownedBytes(outBytes);
  let at = 0;
  let out = 0;
  for (let i = 0; i < chunks; i++) {
    const piece = input.subarray(at, Math.min(at + inChunk, input.length));
    at += piece.length;
    const last = job.final && i === chunks - 1;
    const nonce = ageNonce(job.counter + i, last);
    if (sealing) {
      const cipher = createCipheriv('chacha20-poly1305', job.key, nonce, { authTagLength: AGE_TAG_BYTES });
      const body = cipher.update(piece);
      cipher.final();
      output.set(body, out);
      out += body.length;
      output.set(cipher.getAuthTag(), out);
      out += AGE_TAG_BYTES;
    } else {
      if (piece.length < AGE_TAG_BYTES) fail('E_AGE_TRUNCATED', 'age chunk is shorter than its tag', i, true);
      const decipher = createDecipheriv('chacha20-poly1305', job.key, nonce, { authTagLength: AGE_TAG_BYTES });
      decipher.setAuthTag(piece.subarray(piece.length - AGE_TAG_BYTES));
      const body = decipher.update(piece.subarray(0, piece.length - AGE_TAG_BYTES));
      try {
        decipher.final();
      } catch {
        fail('E_AGE_AUTH', ageOpenFailure(job.key, job.counter + i, piece, last), i, true);
      }
      output.set(body, out);
      out += body.length;
    }
  }
  return { output, ...(sealing ? { recycled: job.input } : {}) };
}

/** Says why a chunk did not open: when it opens with the other value of the last-chunk flag, the file was cut or extended at a chunk boundary. */
function ageOpenFailure(key: Uint8Array, counter: number, piece: Uint8Array, last: boolean): string {
  const retry = createDecipheriv('chacha20-poly1305', key, ageNonce(counter, !last), { authTagLength: AGE_TAG_BYTES });
  retry.setAuthTag(piece.subarray(piece.length - AGE_TAG_BYTES));
  retry.update(piece.subarray(0, piece.length - AGE_TAG_BYTES));
  try {
    retry.final();
  } catch {
    return 'age chunk failed authentication: the file is corrupt or was encrypted with another key';
  }
  return last
    ? 'age file is truncated: its last chunk is not marked as the last one'
    : 'age file has data after the chunk marked as its last one';
}

// ------------------------------------------------------------------------------------------- xbcrypt

const AES_BY_KEY_BYTES: Record<number, string> = { 16: 'aes-128-ctr', 24: 'aes-192-ctr', 32: 'aes-256-ctr' };
const SHA256_BYTES = 32;

function xbcryptOpen(job: XbcryptChunksJob): CodecResult {
  const algorithm = AES_BY_KEY_BYTES[job.key.length];
  if (algorithm === undefined) fail('E_XBCRYPT_KEY', `an xbcrypt key is 16, 24 or 32 bytes, not ${job.key.length}`);
  const outputs: Uint8Array[] = [];
  let total = 0;
  let at = 0;
  const zeroIv = new Uint8Array(16);
  for (let i = 0; i < job.sizes.length; i++) {
    const size = job.sizes[i]!;
    const payload = job.input.subarray(at, at + size);
    at += size;
    const crc = crc32(payload) >>> 0;
    if (crc !== job.crc32[i]) {
      fail('E_XBCRYPT_CRC', `chunk CRC32 is 0x${crc.toString(16)}, the chunk says 0x${(job.crc32[i] ?? 0).toString(16)}`, i, true);
    }
    // v3 uses the stored IV as the whole initial counter block; v1/v2 decrypt from a zero counter
    const iv = job.version === 3 ? (job.ivs[i] ?? zeroIv) : zeroIv;
    const decipher = createDecipheriv(algorithm, job.key, iv);
    const plain = Buffer.concat([decipher.update(payload), decipher.final()]);
    if (job.version === 3) {
      if (plain.length < SHA256_BYTES) fail('E_XBCRYPT_SHORT', 'chunk is shorter than its SHA-256', i, true);
      const body = plain.subarray(0, plain.length - SHA256_BYTES);
      const digest = createHash('sha256').update(body).digest();
      if (!timingSafeEqual(digest, plain.subarray(plain.length - SHA256_BYTES))) {
        fail('E_XBCRYPT_HASH', 'chunk plaintext hash does not match: wrong encryption key, or corrupt data', i, true);
      }
      outputs.push(body);
      total += body.length;
    } else {
      outputs.push(plain);
      total += plain.length;
    }
  }
  return { output: concatOwned(outputs, total) };
}

export function describeFailure(err: unknown): JobFailure {
  if (err instanceof JobFailureError) return err.failure;
  return { code: 'E_CODEC', message: err instanceof Error ? err.message : String(err) };
}
