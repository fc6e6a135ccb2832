/** `extractStream`: an xbstream unpacked into a directory (what `xbstream -x` does), optionally decoded on the way. */
import type { CountedBlocks } from '../../bytes/counted-blocks.js';
import { decodeXbstreamEvents } from '../../container/xbstream/decoded-events.js';
import { readXbstream } from '../../container/xbstream/reader.js';
import type { SafePath } from '../../entry.js';
import { type ApplySummary, applyXbstreamEvents } from '../../sink/apply-xbstream.js';
import { DirectorySink } from '../../sink/dir.js';
import type { Decoder } from '../../transform/decode.js';
import { StreamCounter, type StreamProgress } from './progress.js';

export interface ExtractStreamOptions {
  /** The xbstream's bytes. */
  input: AsyncIterable<Uint8Array>;
  /**
   * The recycled blocks `input` is read into, if it is (see CountedBlocks): undecoded payloads are then
   * written as views of them and given back once written. Leave it out with a decoder.
   */
  inputBlocks?: CountedBlocks;
  /** The target (default: the working directory); nothing is ever written outside it. */
  directory?: string;
  /** Replace files that already exist (default: refuse, like mbstream). */
  overwrite?: boolean;
  /** Writes in flight; 1 writes synchronously, as mbstream does. Default 1. */
  parallel?: number;
  /** Removes the layers it was made for (.zst, .lz4, .qp, .age, .xbcrypt) as files arrive. */
  decoder?: Decoder;
  onFile?: (path: SafePath, size: number) => void;
  onWarning?: (message: string) => void;
  onProgress?: (progress: StreamProgress) => void;
}

/**
 * Extracts the stream, checking every chunk CRC and path; any defect is an error naming the file,
 * chunk and offset (never mbstream's exit 0 after errors).
 */
export async function extractStream(options: ExtractStreamOptions): Promise<ApplySummary> {
  const parallel = options.parallel ?? 1;
  const sink = await DirectorySink.create(options.directory ?? '.', { overwrite: options.overwrite === true, synchronousWrites: parallel === 1 });
  const counter = new StreamCounter(options.onProgress);
  const events = readXbstream(counter.filter(options.input));
  return applyXbstreamEvents(options.decoder === undefined ? events : decodeXbstreamEvents(events, options.decoder), sink, {
    parallel,
    ...(options.inputBlocks === undefined ? {} : { blocks: options.inputBlocks }),
    onFile: (path, size) => {
      counter.fileDone();
      options.onFile?.(path, size);
    },
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
  });
}
