/**
 * The zstd jobs of a codec worker: compress one block into one frame, decode one whole frame, and the
 * streaming decoder of a pinned stream (state kept in this thread between jobs, keyed by stream id).
 */
import { createRequire } from 'node:module';
import { errorText, fail } from '../pool/job-failure.js';
import type { CodecResult, ZstdCompressJob, ZstdFrameJob, ZstdStreamCompressJob, ZstdStreamJob } from '../pool/jobs.js';
import { concatOwned, ownedBytes, scratchOf } from '../pool/owned-bytes.js';

type ZstdBinding = typeof import('zstd-napi/binding.js');
const require = createRequire(import.meta.url);
let zstdBinding: ZstdBinding | undefined;
const zstd = (): ZstdBinding => (zstdBinding ??= require('zstd-napi/binding') as ZstdBinding);

const compressors = new Map<number, InstanceType<ZstdBinding['CCtx']>>();

export function zstdCompress(job: ZstdCompressJob): CodecResult {
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

let decompressor: InstanceType<ZstdBinding['DCtx']> | undefined;

export function zstdFrame(job: ZstdFrameJob): CodecResult {
  const z = zstd();
  decompressor ??= new z.DCtx();
  const output = ownedBytes(job.contentBytes);
  let n: number;
  try {
    n = decompressor.decompress(output, job.input);
  } catch (err) {
    decompressor = undefined; // a context that failed mid-frame is not reused
    fail('E_ZSTD_CORRUPT', `zstd frame is corrupt: ${errorText(err)}`, undefined, true);
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
const zstdStreams = new Map<number, StreamState>();
const STREAM_STEP_BYTES = 1 << 20;

/** Forgets the streaming decoder or compressor of a pinned stream. */
export function zstdStreamClose(stream: number): CodecResult {
  zstdStreams.delete(stream);
  streamCompressors.delete(stream);
  return { output: new Uint8Array(0) };
}

/** The compressors of pinned streams (one frame each), by pin. */
const streamCompressors = new Map<number, InstanceType<ZstdBinding['CCtx']>>();
const NO_INPUT = new Uint8Array(0);

/**
 * One piece of a pinned stream's frame: all of `input` goes in (single-threaded zstd takes it whole), and
 * what zstd has ready comes out; with `end` the frame is finished and the compressor forgotten.
 */
export function zstdStreamCompress(job: ZstdStreamCompressJob): CodecResult {
  const z = zstd();
  let cctx = streamCompressors.get(job.pin);
  if (cctx === undefined) {
    cctx = new z.CCtx();
    cctx.setParameter(z.CParameter.compressionLevel, job.level);
    cctx.setParameter(z.CParameter.checksumFlag, 1);
    streamCompressors.set(job.pin, cctx);
  }
  const directive = job.end ? z.EndDirective.end : z.EndDirective.continue;
  let input = job.input ?? NO_INPUT;
  // room for everything this piece can release (the input's bound plus a block zstd may still hold)
  const dst = scratchOf(z.compressBound(input.length) + (256 << 10));
  const pieces: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let ret: number;
    let produced: number;
    let consumed: number;
    try {
      [ret, produced, consumed] = cctx.compressStream2(dst, input, directive);
    } catch (err) {
      streamCompressors.delete(job.pin);
      fail('E_ZSTD_COMPRESS', `zstd compression failed: ${errorText(err)}`);
    }
    if (produced > 0) {
      pieces.push(dst.slice(0, produced));
      total += produced;
    }
    input = input.subarray(consumed);
    if (input.length === 0 && (!job.end || ret === 0)) break;
  }
  if (job.end) streamCompressors.delete(job.pin);
  const output = pieces.length === 1 ? (pieces[0] as Uint8Array) : concatOwned(pieces, total);
  return job.input === undefined ? { output } : { output, recycled: job.input };
}

export function zstdStream(job: ZstdStreamJob): CodecResult {
  const z = zstd();
  let state = zstdStreams.get(job.pin);
  if (state === undefined) {
    state = { dctx: new z.DCtx(), pending: new Uint8Array(0) };
    zstdStreams.set(job.pin, state);
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
      zstdStreams.delete(job.pin);
      fail('E_ZSTD_CORRUPT', `zstd data is corrupt: ${errorText(err)}`, undefined, true);
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
