/** `decodeInPlace`: backup files decrypted and/or decompressed where they lie (xtrabackup --decrypt / --decompress). */
import type { Decoder } from '../../transform/decode.js';
import { decodeInPlace as decodeFiles, type InPlaceFile, type InPlaceSummary } from '../../transform/in-place.js';

export type { InPlaceFile, InPlaceSummary };

export interface DecodeInPlaceOptions {
  /** Directories (searched recursively) or files. A file named here must carry a layer the decoder removes. */
  paths: readonly string[];
  /** Which layers go: `createDecoder({ decompress, decrypt, ... })`. */
  decoder: Decoder;
  /** Files decoded at once (default 1). */
  parallel?: number;
  /** Delete each original once its decoded copy is in place. */
  removeOriginal?: boolean;
  /** Replace decoded files that already exist (default: refuse). */
  force?: boolean;
  signal?: AbortSignal;
  onFile?: (file: InPlaceFile) => void;
}

/**
 * Decodes every file under `paths` whose name announces layers the decoder removes (x.zst.age → x.zst,
 * or x). Each decoded file appears under its name only once complete; originals stay unless `removeOriginal`.
 */
export async function decodeInPlace(options: DecodeInPlaceOptions): Promise<InPlaceSummary> {
  const { paths, ...rest } = options;
  return decodeFiles(paths, rest);
}
