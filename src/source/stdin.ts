/**
 * A byte stream (stdin, or any readable) as one named file entry, for storing in a repository or a
 * container. Its size is unknown up front; the consumer learns it by reading to the end.
 */
import type { FileEntry, SafePath } from '../entry.js';

export interface StreamEntryOptions {
  /** Permission bits recorded for the stream (default 0o600: dumps are usually private). */
  mode?: number;
  mtimeMs: number;
  uid?: number;
  gid?: number;
}

export function streamEntry(path: SafePath, content: AsyncIterable<Uint8Array>, options: StreamEntryOptions): FileEntry {
  return {
    kind: 'file',
    path,
    mode: options.mode ?? 0o600,
    mtimeMs: options.mtimeMs,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
    content,
  };
}
