/**
 * A transform rewrites file entries one at a time (compress, encrypt, and their inverses): it may rename
 * the entry and replace its content with a lazily computed stream. Other entry kinds pass through.
 * Parallelism lives inside a transform (a bounded block pool shared by all files), never in the caller.
 */
import type { Entry, FileEntry } from '../entry.js';

export type FileTransform = (entry: FileEntry) => FileEntry;

export function applyToFiles(transforms: readonly FileTransform[]): (entry: Entry) => Entry {
  return (entry) => (entry.kind === 'file' ? transforms.reduce((e, t) => t(e), entry) : entry);
}

export async function* mapEntries(
  entries: AsyncIterable<Entry>,
  fn: (entry: Entry) => Entry,
): AsyncGenerator<Entry> {
  for await (const entry of entries) yield fn(entry);
}
