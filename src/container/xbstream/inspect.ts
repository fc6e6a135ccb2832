/**
 * Reads a whole xbstream without writing anything: every chunk, CRC and path is checked by the reader,
 * and each file's size and SHA-256 (as it would be extracted) is reported when its E chunk arrives.
 */
import type { SafePath } from '../../entry.js';
import { FileHasher } from './file-hasher.js';
import { readXbstream, type XbstreamReaderOptions } from './reader.js';

export interface InspectedFile {
  path: SafePath;
  size: number;
  /** undefined when part of the file was rewritten in place (MariaDB seek backwards). */
  sha256: string | undefined;
  chunks: number;
}

export interface InspectSummary {
  files: number;
  chunks: number;
  removed: SafePath[];
  renamed: { from: SafePath; to: SafePath }[];
  skippedChunks: number;
}

export async function inspectXbstream(
  input: AsyncIterable<Uint8Array>,
  onFile: (file: InspectedFile) => void,
  options: XbstreamReaderOptions & { hash?: boolean } = {},
): Promise<InspectSummary> {
  const open = new Map<SafePath, { hasher: FileHasher | undefined; end: number; chunks: Set<number> }>();
  const summary: InspectSummary = { files: 0, chunks: 0, removed: [], renamed: [], skippedChunks: 0 };
  const stateFor = (path: SafePath) => {
    let state = open.get(path);
    if (state === undefined) {
      state = { hasher: options.hash === false ? undefined : new FileHasher(), end: 0, chunks: new Set() };
      open.set(path, state);
    }
    return state;
  };
  let lastChunk = 0;
  for await (const event of readXbstream(input, options)) {
    lastChunk = event.chunk;
    switch (event.type) {
      case 'data': {
        const state = stateFor(event.path);
        state.chunks.add(event.chunk);
        state.hasher?.update(event.offset, event.data);
        state.end = Math.max(state.end, event.offset + event.data.length);
        break;
      }
      case 'seek':
        stateFor(event.path);
        break;
      case 'eof': {
        const state = stateFor(event.path);
        open.delete(event.path);
        const { size, sha256 } = state.hasher?.finish(state.end) ?? { size: state.end, sha256: undefined };
        summary.files += 1;
        onFile({ path: event.path, size, sha256, chunks: state.chunks.size + 1 });
        break;
      }
      case 'remove':
        summary.removed.push(event.path);
        break;
      case 'rename':
        summary.renamed.push({ from: event.path, to: event.to });
        break;
      case 'skipped':
        summary.skippedChunks += 1;
        break;
    }
  }
  summary.chunks = lastChunk;
  return summary;
}
