/**
 * The transforms a backup applies to every file, compress then encrypt (either may be absent), linked
 * so that each stage gives back the memory of the stage before it (see codec-blocks.ts):
 *
 *   source pool ──▶ compressor ──lent frames──▶ encryptor ──▶ gathered into source pool blocks ──▶ sink
 *      ▲  release()      │        ▲  recycle()       │                                          │ give()
 *      └─────────────────┘        └──────────────────┘      ◀───────────────────────────────────┘
 */
import { type CompressionAlgorithm, createCompressor } from './compress.js';
import type { OutputBlocks, Release } from './codec-blocks.js';
import type { FileTransform } from './entry-transform.js';

/** The pool a directory source reads into: transforms give its chunks back and gather output into it. */
export interface SourceBuffers extends OutputBlocks {
  give(chunk: Uint8Array): void;
}

export interface EncodeChainOptions {
  compress?: { algorithm: CompressionAlgorithm; level?: number; blockBytes?: number; threads?: number; lanes?: number };
  encrypt?: { recipients?: readonly string[]; passphrase?: string; scryptLogN?: number; threads?: number };
  /** With it, input chunks are given back once copied and output is gathered into its blocks. */
  buffers?: SourceBuffers;
}

/** Async because the age module (and `age-encryption`) is loaded only when encrypting. */
export async function createEncodeChain(options: EncodeChainOptions): Promise<FileTransform[]> {
  const buffers = options.buffers;
  const transforms: FileTransform[] = [];
  /** Whom the next stage tells that it has copied a chunk: the source pool, then the stage before it. */
  let release: Release | undefined = buffers === undefined ? undefined : (chunk) => buffers.give(chunk);
  if (options.compress !== undefined) {
    const compressor = createCompressor({
      ...options.compress,
      ...(release === undefined ? {} : { release }),
      ...(buffers === undefined || options.encrypt !== undefined ? {} : { output: buffers }),
    });
    transforms.push(compressor.transform);
    release = compressor.recycle;
  }
  if (options.encrypt !== undefined) {
    const { createAgeEncryptor } = await import('./age/encrypt.js');
    const encryptor = createAgeEncryptor({
      ...options.encrypt,
      ...(release === undefined ? {} : { release }),
      ...(buffers === undefined ? {} : { output: buffers }),
    });
    transforms.push(encryptor.transform);
  }
  return transforms;
}
