/** `verifyStream`: an xbstream checked end to end without writing anything, with a SHA-256 per file and of the whole stream. */
import type { DecodedInspectedFile } from '../../container/xbstream/decoded-events.js';
import { inspectDecodedXbstream } from '../../container/xbstream/decoded-events.js';
import { inspectXbstream, type InspectSummary } from '../../container/xbstream/inspect.js';
import type { SafePath } from '../../entry.js';
import { ThreadedDigest } from '../../filter/threaded-digest.js';
import type { Decoder } from '../../transform/decode.js';
import { StreamCounter, type StreamProgress } from './progress.js';

export type VerifiedFile = DecodedInspectedFile;

export interface VerifyStreamOptions {
  input: AsyncIterable<Uint8Array>;
  /** Decode (and so check every frame, chunk and tag of) the files with the layers it removes. */
  decoder?: Decoder;
  /** Each file once checked: size and SHA-256 as an extractor would leave it (decoded, with a decoder). */
  onFile?: (file: VerifiedFile) => void;
  onProgress?: (progress: StreamProgress) => void;
}

export interface VerifyStreamResult {
  stream: { bytes: number; sha256: string; chunks: number; files: number };
  removed: SafePath[];
  renamed: { from: SafePath; to: SafePath }[];
}

/** Checks the structure, every chunk CRC and every path; a defect is an error naming file, chunk and offset. */
export async function verifyStream(options: VerifyStreamOptions): Promise<VerifyStreamResult> {
  const counter = new StreamCounter(options.onProgress);
  const digest = new ThreadedDigest('sha256');
  const input = digest.filter(counter.filter(options.input));
  const onFile = (file: VerifiedFile): void => {
    counter.fileDone();
    options.onFile?.(file);
  };
  const summary: InspectSummary =
    options.decoder === undefined ? await inspectXbstream(input, onFile) : await inspectDecodedXbstream(input, options.decoder, onFile);
  return {
    stream: { bytes: digest.bytes, sha256: await digest.hex(), chunks: summary.chunks, files: summary.files },
    removed: summary.removed,
    renamed: summary.renamed,
  };
}
