/**
 * `load --stream`: reads a mydumper stream and feeds the loader while it arrives. Each file is
 * written into the load directory under its (validated) basename, then handed to the loader, so a
 * table's data starts loading as soon as its schema has arrived. In the NO_STREAM modes only
 * headers arrive and each file must already be in the (shared) directory.
 *
 * The stream is only trusted as far as the reader checks it: a truncated or corrupt stream stops
 * the load with an error naming the file and offset, and a stream without its final `metadata`
 * file is an incomplete dump, never a silent partial restore. A file is written under a hidden
 * temporary name and given its own name only once complete, so an interrupted stream never leaves a
 * truncated file looking like a whole one; on failure the temporary file is removed. Files that
 * arrived whole stay (they are correct, and the loader may be reading them).
 */
import { createWriteStream } from 'node:fs';
import { link, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { type StreamMode, streamModeFlags } from '../../container/mydumper-stream/codec.js';
import { readMydumperStream } from '../../container/mydumper-stream/reader.js';
import { SluiceError } from '../../errors.js';
import { Loader, type LoadOptions, type LoadSummary } from './loader.js';

export interface StreamLoadOptions extends LoadOptions {
  directory: string;
  mode: StreamMode;
  /** Called for each file as it arrives from the stream. */
  onFile?: (name: string, size: number) => void;
}

/** Suffix of a file still arriving; the loader's layout ignores such names. */
export const PARTIAL_SUFFIX = '.sluice-partial';

/**
 * Writes `content` to `temp`, then links it to `path` and removes `temp`. 'wx' and link never
 * overwrite or follow an existing entry of the directory.
 */
async function writeWhole(content: AsyncIterable<Uint8Array>, path: string, temp: string): Promise<void> {
  try {
    await pipeline(Readable.from(content), createWriteStream(temp, { flags: 'wx' }));
  } catch (err) {
    // EEXIST: the temporary name was taken, by nothing of ours
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await unlink(temp).catch(() => undefined);
    throw err;
  }
  try {
    await link(temp, path);
  } finally {
    await unlink(temp);
  }
}

export async function loadMydumperStream(source: AsyncIterable<Uint8Array>, options: StreamLoadOptions): Promise<LoadSummary> {
  const flags = streamModeFlags(options.mode);
  const loader = new Loader({ ...options, deleteAfterLoad: flags.deleteFiles });
  await loader.start();
  try {
    for await (const f of readMydumperStream(source, { expectContent: flags.sendContent })) {
      if (loader.failure !== undefined) break;
      const path = join(options.directory, f.name);
      let size = f.size;
      if (flags.sendContent) {
        await writeWhole(f.content, path, join(options.directory, `.${f.name}${PARTIAL_SUFFIX}`));
      } else {
        try {
          size = (await stat(path)).size;
        } catch {
          throw new SluiceError(
            'E_MISSING_FILE',
            `stream announces "${f.name}" but it is not in ${options.directory} (NO_STREAM modes need the directory the dump writes into)`,
            { path: f.name, offset: f.headerOffset },
          );
        }
      }
      options.onFile?.(f.name, size);
      loader.addFile({ name: f.name, path, size });
    }
  } catch (err) {
    loader.abort(err);
    await loader.finish().catch(() => undefined);
    throw err;
  }
  if (loader.failure !== undefined) {
    await loader.finish().catch(() => undefined);
    throw loader.failure;
  }
  loader.endOfFiles();
  return loader.finish();
}
