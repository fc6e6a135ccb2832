/**
 * Per-file compression, as XtraBackup 8 does it: `x` becomes `x.zst` (or `x.lz4`), a concatenation of
 * standard frames that the stock `zstd -d` / `lz4 -d` decode. Each file is cut into blocks
 * (`blockBytes`, default 4 MiB); each block becomes one complete frame, compressed on the shared worker
 * pool, and frames are emitted in order.
 *
 * - zstd frames record their content size and a content checksum (XXH64), like `zstd` does.
 * - LZ4 frames are written like Percona's (FLG 0x6C: independent blocks, content size, content
 *   checksum); blocks that do not shrink are stored, so output never grows by more than the framing.
 * - An empty file becomes one empty frame, so the stock tools accept it too.
 *
 * Memory: about (pool capacity + window per file being read) blocks in and out.
 */
import type { FileEntry } from '../entry.js';
import { toSafePath } from '../entry.js';
import { copyOf, transferOf } from '../bytes/copies.js';
import { BlockBuffers, encodeBlocks, gatherInto, type OutputBlocks, type Release, smallStream } from './codec-blocks.js';
import { codecError } from './codec-errors.js';
import type { FileTransform } from './entry-transform.js';
import { BlockPool, streamWindow } from './pool/block-pool.js';
import { lz4OutputBound } from './lz4/frame-format.js';
import { zstdOutputBound } from './zstd/frame-format.js';
import type { CodecJob } from './pool/jobs.js';

export type CompressionAlgorithm = 'zstd' | 'lz4';

export const COMPRESSION_SUFFIX: Record<CompressionAlgorithm, string> = { zstd: '.zst', lz4: '.lz4' };
export const DEFAULT_COMPRESS_BLOCK_BYTES = 4 << 20;
export const MIN_COMPRESS_BLOCK_BYTES = 64 << 10;
export const MAX_COMPRESS_BLOCK_BYTES = 16 << 20;
export const ZSTD_MIN_LEVEL = 1;
export const ZSTD_MAX_LEVEL = 19;

export interface CompressOptions {
  algorithm: CompressionAlgorithm;
  /** zstd level, 1..19 (default 1). Ignored by lz4. */
  level?: number;
  /** Worker threads shared by every file this transform compresses (default 1). */
  threads?: number;
  /** Input bytes per frame, the unit of parallel work (default 4 MiB, 64 KiB..16 MiB). */
  blockBytes?: number;
  /** Use this pool instead of starting one. */
  pool?: BlockPool;
  /**
   * Files compressed at once (a container's `--parallel`, default 1): the pool's window is shared out
   * between them, so memory does not grow with the lanes (each holds its window of blocks in and out).
   */
  lanes?: number;
  /** Told about each input chunk once its bytes are copied (to recycle a source's read buffers). */
  release?: Release;
  /**
   * Gather the frames into blocks from this pool (when compression is the last transform). Without it,
   * frames are lent to the consumer, which gives each back with `recycle` once it no longer reads it.
   */
  output?: OutputBlocks;
}

/** The LZ4 block size code whose maximum block holds `bytes` (4 MiB blocks for anything larger than 1 MiB). */
export function lz4BlockCode(bytes: number): number {
  if (bytes <= 64 << 10) return 4;
  if (bytes <= 256 << 10) return 5;
  if (bytes <= 1 << 20) return 6;
  return 7;
}

export interface Compressor {
  transform: FileTransform;
  /** Compresses one byte stream (what `transform` does to a file's content). */
  compress(content: AsyncIterable<Uint8Array>, path?: string): AsyncGenerator<Uint8Array>;
  /** Gives back a chunk `compress` yielded, once the consumer no longer reads it (see codec-blocks.ts). */
  readonly recycle: Release;
  readonly suffix: string;
  readonly pool: BlockPool;
}

export function createCompressor(options: CompressOptions): Compressor {
  const level = options.level ?? 1;
  if (options.algorithm === 'zstd' && (!Number.isInteger(level) || level < ZSTD_MIN_LEVEL || level > ZSTD_MAX_LEVEL)) {
    throw new RangeError(`zstd level must be ${ZSTD_MIN_LEVEL}..${ZSTD_MAX_LEVEL}, not ${level}`);
  }
  const blockBytes = options.blockBytes ?? DEFAULT_COMPRESS_BLOCK_BYTES;
  if (!Number.isInteger(blockBytes) || blockBytes < MIN_COMPRESS_BLOCK_BYTES || blockBytes > MAX_COMPRESS_BLOCK_BYTES) {
    throw new RangeError(`block size must be ${MIN_COMPRESS_BLOCK_BYTES}..${MAX_COMPRESS_BLOCK_BYTES} bytes, not ${blockBytes}`);
  }
  const pool = options.pool ?? new BlockPool({ threads: options.threads ?? 1 });
  const buffers = new BlockBuffers(blockBytes, pool.capacity + 2);
  const window = Math.max(1, Math.floor(streamWindow(pool) / Math.max(1, options.lanes ?? 1)));
  const suffix = COMPRESSION_SUFFIX[options.algorithm];
  const algorithm = options.algorithm;
  const blockCode = lz4BlockCode(blockBytes);

  const outputBound = algorithm === 'zstd' ? zstdOutputBound(blockBytes) : lz4OutputBound(blockBytes, blockCode);
  const outputs = new BlockBuffers(outputBound, pool.capacity + window + 2);
  const recycle: Release = (chunk) => outputs.give(chunk);

  const jobFor = (input: Uint8Array, output?: Uint8Array): CodecJob => {
    const job: CodecJob = algorithm === 'zstd' ? { kind: 'zstd-compress', level, input } : { kind: 'lz4-compress', blockCode, input };
    if (output !== undefined) job.output = output;
    return job;
  };

  async function* compress(content: AsyncIterable<Uint8Array>, path?: string): AsyncGenerator<Uint8Array> {
    const start = await smallStream(content, buffers.blockBytes / 4);
    if (start.empty) {
      yield (await pool.run(jobFor(new Uint8Array(0)))).output;
      return;
    }
    if (start.whole !== undefined) {
      // One small chunk, the whole file (most files of a tree): one job, its output yielded as it is.
      // A view of a shared read block goes to the worker as it is, neither copied nor moved, and the
      // block is released once the job is done: for thousands of files the copies and the garbage of
      // moving fresh buffers cost the main thread more than the workers spend compressing.
      const whole = start.whole;
      const shared = whole.buffer instanceof SharedArrayBuffer;
      const input = shared ? whole : copyOf(whole);
      if (!shared) options.release?.(whole);
      let output: Uint8Array;
      try {
        output = (await pool.run(jobFor(input), shared ? [] : transferOf(input))).output;
      } catch (err) {
        throw codecError(err, `${algorithm} compression failed`, { path, offset: 0 });
      } finally {
        if (shared) options.release?.(whole);
      }
      yield output;
      return;
    }
    yield* options.output === undefined ? frames(start.rest, path) : gatherInto(frames(start.rest, path), options.output, recycle);
  }

  async function* frames(content: AsyncIterable<Uint8Array>, path?: string): AsyncGenerator<Uint8Array> {
    let frames = 0;
    const results = encodeBlocks(content, {
      pool,
      inputs: buffers,
      outputs,
      window,
      ...(options.release === undefined ? {} : { release: options.release }),
      job: (block, output) => jobFor(block.bytes, output),
      failure: (err, block) => codecError(err, `${algorithm} compression failed`, { path, offset: block.offset }),
    });
    for await (const frame of results) {
      frames += 1;
      yield frame;
    }
    if (frames === 0) yield (await pool.run(jobFor(new Uint8Array(0)))).output;
  }

  const transform: FileTransform = (entry: FileEntry): FileEntry => {
    const { size: _size, ...rest } = entry;
    return { ...rest, path: toSafePath(entry.path + suffix), content: compress(entry.content, entry.path) };
  };
  return { transform, compress, recycle, suffix, pool };
}
