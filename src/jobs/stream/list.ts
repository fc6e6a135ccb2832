/** `listStream`: the files of an xbstream, with their sizes (what `xbstream -t` prints). */
import { type InspectSummary, inspectXbstream } from '../../container/xbstream/inspect.js';
import type { SafePath } from '../../entry.js';

export interface ListStreamOptions {
  input: AsyncIterable<Uint8Array>;
  /** Each file as its last chunk arrives. */
  onFile: (file: { path: SafePath; size: number }) => void;
}

/** Reads the whole stream (every CRC and path checked) and names each file; nothing is written. */
export async function listStream(options: ListStreamOptions): Promise<InspectSummary> {
  return inspectXbstream(options.input, (file) => options.onFile({ path: file.path, size: file.size }), { hash: false });
}
