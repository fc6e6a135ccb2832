/**
 * The messages between transforms and codec workers. Every job is self-contained (one frame, one
 * batch of blocks or chunks) except the `zstd-stream` jobs of a stream pinned to one worker.
 * Byte arrays are moved, not copied, when the sender lists their buffers for transfer.
 */

/** Compress one block into one complete zstd frame (content size and checksum recorded). */
export interface ZstdCompressJob {
  kind: 'zstd-compress';
  level: number;
  input: Uint8Array;
  /** A buffer of at least `zstdOutputBound(input)` bytes to write the frame into (reused across jobs). */
  output?: Uint8Array;
}

/** Compress one block into one complete LZ4 frame (FLG 0x6C: independent blocks, content size and checksum). */
export interface Lz4CompressJob {
  kind: 'lz4-compress';
  /** LZ4 block size code 4..7 (64 KiB, 256 KiB, 1 MiB, 4 MiB). */
  blockCode: number;
  input: Uint8Array;
  /** A buffer of at least `lz4OutputBound(input)` bytes to write the frame into (reused across jobs). */
  output?: Uint8Array;
}

/** Decode one whole zstd frame whose header declares its content size. */
export interface ZstdFrameJob {
  kind: 'zstd-frame';
  input: Uint8Array;
  contentBytes: number;
}

/**
 * Feed bytes of a large zstd frame to the streaming decoder kept for the pinned stream and take back at most
 * `maxOutput` bytes. Input the decoder could not take yet stays in the worker: send steps without
 * input until `pendingInput` is 0 and a step returns less than `maxOutput`.
 */
export interface ZstdStreamJob {
  kind: 'zstd-stream';
  pin: number;
  input?: Uint8Array;
  maxOutput: number;
}

/**
 * Compress the next piece of one zstd frame with the compressor kept for the pinned stream (created by the
 * first job of the pin, with a checksum); `end` closes the frame (the job may have no input then). The
 * output is the compressed bytes this piece made ready; the input comes back as `recycled`.
 */
export interface ZstdStreamCompressJob {
  kind: 'zstd-stream-compress';
  pin: number;
  level: number;
  input?: Uint8Array;
  end: boolean;
}

export interface PinnedCloseJob {
  kind: 'pinned-close';
  pin: number;
}

/** A run of LZ4 blocks laid end to end in `input`; `sizes[i]` bytes each, `stored[i]` when not compressed. */
export interface Lz4BlocksJob {
  kind: 'lz4-blocks';
  input: Uint8Array;
  sizes: number[];
  stored: boolean[];
  /** xxh32 of each block's bytes when the frame has block checksums. */
  checksums?: number[];
  maxBlockBytes: number;
  /** The previous 64 KiB of output, for frames with linked blocks (then `sizes` has one block). */
  dictionary?: Uint8Array;
}

/** A run of QuickLZ blocks from a qpress archive, each with the Adler-32 the archive stores for it. */
export interface QuicklzBlocksJob {
  kind: 'quicklz-blocks';
  input: Uint8Array;
  sizes: number[];
  adler32: number[];
  maxBlockBytes: number;
}

/** Seal (`age-seal`) or open (`age-open`) consecutive age STREAM chunks starting at chunk `counter`. */
export interface AgeStreamJob {
  kind: 'age-seal' | 'age-open';
  key: Uint8Array;
  counter: number;
  /** The last chunk of `input` is the last chunk of the file. */
  final: boolean;
  input: Uint8Array;
  /** age-seal: a buffer of at least `ageSealedBound(input)` bytes to write into (reused across jobs). */
  output?: Uint8Array;
}

/** Decrypt a run of xbcrypt chunk payloads (AES-CTR), checking each CRC32 and, in version 3, its SHA-256. */
export interface XbcryptChunksJob {
  kind: 'xbcrypt-open';
  key: Uint8Array;
  version: 1 | 2 | 3;
  input: Uint8Array;
  sizes: number[];
  ivs: Uint8Array[];
  crc32: number[];
}

export type CodecJob =
  | ZstdCompressJob
  | Lz4CompressJob
  | ZstdFrameJob
  | ZstdStreamJob
  | ZstdStreamCompressJob
  | PinnedCloseJob
  | Lz4BlocksJob
  | QuicklzBlocksJob
  | AgeStreamJob
  | XbcryptChunksJob;

export interface CodecResult {
  output: Uint8Array;
  /** The job's input buffer handed back for reuse, when the job allows it. */
  recycled?: Uint8Array;
  /** zstd-stream: input bytes still held by the worker. */
  pendingInput?: number;
  /** zstd-stream: the frame has been decoded completely. */
  frameDone?: boolean;
}

/** Why a job failed; `item` is the index of the block or chunk within the job. */
export interface JobFailure {
  code: string;
  message: string;
  item?: number;
  integrity?: boolean;
}
