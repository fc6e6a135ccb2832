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
  const cctx = streamCompressors.get(stream);
  if (cctx !== undefined) {
    streamCompressors.delete(stream);
    cctx.ctx.reset(zstd().ResetDirective.sessionOnly); // a frame left unfinished is dropped
    spareCompressor(cctx);
  }
  return { output: new Uint8Array(0) };
}

interface StreamCompressor {
  ctx: InstanceType<ZstdBinding['CCtx']>;
  level: number;
}

/** The compressors of pinned streams (one frame each), by pin. */
const streamCompressors = new Map<number, StreamCompressor>();
/**
 * Compressors of finished frames, kept for the next stream: a context holds megabytes of native memory that
 * only this thread's (rare) garbage collection would free, so one per file would pile up.
 */
const spareCompressors: StreamCompressor[] = [];
const MAX_SPARE_COMPRESSORS = 4;
const NO_INPUT = new Uint8Array(0);

function spareCompressor(c: StreamCompressor): void {
  if (spareCompressors.length < MAX_SPARE_COMPRESSORS) spareCompressors.push(c);
}

function streamCompressor(pin: number, level: number): StreamCompressor {
  let c = streamCompressors.get(pin);
  if (c !== undefined) return c;
  const z = zstd();
  const at = spareCompressors.findIndex((s) => s.level === level);
  if (at >= 0) c = spareCompressors.splice(at, 1)[0] as StreamCompressor;
  else {
    const ctx = new z.CCtx();
    ctx.setParameter(z.CParameter.compressionLevel, level);
    ctx.setParameter(z.CParameter.checksumFlag, 1);
    c = { ctx, level };
  }
  streamCompressors.set(pin, c);
  return c;
}

/**
 * One piece of a pinned stream's frame: all of `input` goes in (single-threaded zstd takes it whole), and
 * what zstd has ready comes out; with `end` the frame is finished and the compressor forgotten.
 */
export function zstdStreamCompress(job: ZstdStreamCompressJob): CodecResult {
  const z = zstd();
  const compressor = streamCompressor(job.pin, job.level);
  const cctx = compressor.ctx;
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
      streamCompressors.delete(job.pin); // a context that failed is not reused
      fail('E_ZSTD_COMPRESS', `zstd compression failed: ${errorText(err)}`);
    }
    if (produced > 0) {
      pieces.push(dst.slice(0, produced));
      total += produced;
    }
    input = input.subarray(consumed);
    if (input.length === 0 && (!job.end || ret === 0)) break;
  }
  if (job.end) {
    // the frame is complete: the context starts the next one afresh, with the same parameters
    streamCompressors.delete(job.pin);
    spareCompressor(compressor);
  }
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
