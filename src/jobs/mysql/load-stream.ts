/** `loadStream`: a mydumper stream loaded into MySQL/MariaDB while it arrives. */
import { mkdir, mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StreamMode, streamModeFlags } from '../../container/mydumper-stream/codec.js';
import { UsageError } from '../../errors.js';
import type { LoadSummary } from '../../sink/mysql/loader.js';
import { loadMydumperStream } from '../../sink/mysql/stream-load.js';
import { timestampedName } from './directories.js';
import type { LoadOptions } from './load.js';

export interface LoadStreamOptions extends LoadOptions {
  /** The stream's bytes (`dump --stream`, `mydumper --stream`). */
  input: AsyncIterable<Uint8Array>;
  /** TRADITIONAL and NO_STREAM delete each file once loaded; the NO_STREAM modes send names only. */
  mode: StreamMode;
  /**
   * Where arriving files are put (an empty or new directory); in the NO_STREAM modes, where they already
   * are. Default, when the stream carries the files: a temporary directory if the mode deletes them,
   * else `import-YYYYMMDD-HHMMSS`.
   */
  directory?: string;
  /** Each file as it arrives from the stream. */
  onFile?: (name: string, size: number) => void;
}

/** Where the stream's files go, and how to leave that place afterwards. */
async function prepareDirectory(options: LoadStreamOptions): Promise<{ dir: string; cleanUp: () => Promise<void> }> {
  const { sendContent, deleteFiles } = streamModeFlags(options.mode);
  const given = options.directory;
  if (!sendContent) {
    if (given === undefined) throw new UsageError(`a ${options.mode} stream needs a directory: the files are read from it`);
    return { dir: given, cleanUp: async () => undefined };
  }
  if (given === undefined && deleteFiles) {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-load-'));
    return { dir, cleanUp: () => rm(dir, { recursive: true, force: true }) };
  }
  let dir: string;
  if (given === undefined) {
    dir = timestampedName('import', new Date());
    await mkdir(dir);
  } else {
    dir = given;
    const entries = await readdir(dir).catch(() => undefined);
    if (entries !== undefined && entries.length > 0) {
      throw new UsageError(`--directory ${dir} is not empty; a stream is unpacked into an empty or new directory`);
    }
    if (entries !== undefined) return { dir, cleanUp: async () => undefined };
    await mkdir(dir, { recursive: true });
  }
  return {
    dir,
    cleanUp: async () => {
      if (deleteFiles && (await readdir(dir).catch(() => ['?'])).length === 0) await rmdir(dir).catch(() => undefined);
    },
  };
}

/**
 * Loads the stream: each file is written into the directory as it arrives and handed to the loader, so
 * a table's data loads as soon as its schema is in. A stream cut short, corrupt, or without its final
 * `metadata` file is an error; a directory this job created is removed again if the mode emptied it.
 */
export async function loadStream(options: LoadStreamOptions): Promise<LoadSummary> {
  const { input, directory: _directory, ...rest } = options;
  const { dir, cleanUp } = await prepareDirectory(options);
  try {
    return await loadMydumperStream(input, { ...rest, directory: dir });
  } finally {
    await cleanUp();
  }
}
