/** `load`: a dump directory in mydumper's layout (made by `dump` or mydumper) loaded into MySQL/MariaDB. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError } from '../../errors.js';
import { type LoadFile, Loader, type LoadOptions as LoaderOptions, type LoadSummary } from '../../sink/mysql/loader.js';

export type { LoadProgress, LoadSummary } from '../../sink/mysql/loader.js';

export type LoadOptions = Omit<LoaderOptions, 'deleteAfterLoad'>;

export interface LoadDirectoryOptions extends LoadOptions {
  /** The dump directory. */
  directory: string;
}

/** The regular files of a dump directory, in name order. */
async function listDump(dir: string): Promise<{ files: LoadFile[]; names: string[] }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new SluiceError('E_NO_DIR', `cannot read the dump directory ${dir}: ${(err as Error).message}`, { path: dir });
  }
  const files: LoadFile[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    const st = await lstat(path);
    if (st.isFile()) files.push({ name, path, size: st.size });
  }
  return { files, names };
}

/**
 * Loads every file of the dump directory with `threads` connections: databases, then tables, then
 * data (largest first, in parallel), deferred indexes, and views, triggers and routines last. A
 * directory without its `metadata` file is loaded, with a warning that the dump may be incomplete.
 */
export async function load(options: LoadDirectoryOptions): Promise<LoadSummary> {
  const { directory, ...loaderOptions } = options;
  const { files, names } = await listDump(directory);
  if (!names.includes('metadata')) options.onWarning?.(`${directory} has no metadata file: the dump may be incomplete`);
  const loader = new Loader(loaderOptions);
  await loader.start();
  for (const f of files) loader.addFile(f);
  loader.endOfFiles();
  return loader.finish();
}
