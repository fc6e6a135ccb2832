/**
 * Decompressing or decrypting files where they lie (`sluice decompress DIR`, `sluice decrypt DIR`),
 * like `xtrabackup --decompress/--decrypt --target-dir`. For each file whose name has layers the
 * decoder removes, the decoded bytes go to a temporary file in the same directory, which is synced and
 * renamed to the decoded name only when decoding succeeded to the end; the original is deleted only
 * with `removeOriginal`, and only after that rename. A failure leaves the original untouched and no
 * partial output behind. With `removeOriginal`, each decoded file is synced before its original is
 * deleted. The decoded file keeps the original's permission bits and mtime.
 * Symbolic links are never followed.
 */
import { createReadStream } from 'node:fs';
import { chmod, lstat, readdir, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { exists } from '../files/exists.js';
import { PartialFile } from '../files/partial-file.js';
import { ExitCode, SluiceError, UsageError } from '../errors.js';
import { type Decoder, encodingLayers, LAYER_SUFFIX, type Layer } from './decode.js';

export interface InPlaceOptions {
  decoder: Decoder;
  /** Files decoded at once (default 1). */
  parallel?: number;
  /** Delete each original after its decoded file is in place. */
  removeOriginal?: boolean;
  /** Replace decoded files that already exist (default: refuse). */
  force?: boolean;
  signal?: AbortSignal;
  /** Called after each file. */
  onFile?: (done: InPlaceFile) => void;
}

export interface InPlaceFile {
  path: string;
  output: string;
  layers: Layer[];
  inBytes: number;
  outBytes: number;
}

export interface InPlaceSummary {
  files: InPlaceFile[];
  inBytes: number;
  outBytes: number;
  /** Files whose names announce layers this decoder was not asked to remove (an encrypted file for decompress). */
  leftEncoded: string[];
}

interface Task {
  path: string;
  output: string;
  layers: Layer[];
}

async function collect(root: string, decoder: Decoder, tasks: Task[], explicit: boolean, leftEncoded: string[]): Promise<void> {
  const st = await lstat(root).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${root}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
  });
  if (st.isDirectory()) {
    for (const name of (await readdir(root)).sort()) await collect(join(root, name), decoder, tasks, false, leftEncoded);
    return;
  }
  if (!st.isFile()) return; // symlinks, sockets, devices: never followed or decoded
  const layers = decoder.plan(root);
  if (layers.length === 0 && encodingLayers(root).layers.length > 0) leftEncoded.push(root);
  if (layers.length === 0) {
    if (explicit) {
      throw new UsageError(`${root}: not a file this command decodes (suffixes: ${Object.values(LAYER_SUFFIX).join(', ')})`);
    }
    return;
  }
  let output = root;
  for (const l of layers) output = output.slice(0, -LAYER_SUFFIX[l].length);
  tasks.push({ path: root, output, layers });
}

async function decodeOne(task: Task, options: InPlaceOptions): Promise<InPlaceFile> {
  const original = await stat(task.path);
  if (!options.force && (await exists(task.output))) {
    throw new SluiceError('E_EXISTS', `${task.output} already exists; remove it or use --force`, { path: task.path }, { exitCode: ExitCode.failure });
  }
  // the decoded bytes must be on disk before the original may go; otherwise the page cache will do
  const partial = await PartialFile.create(task.output, { sync: options.removeOriginal === true });
  let outBytes = 0;
  try {
    // small reads for small files: a 1 MiB buffer per file would be most of the work for a tree of tiny files
    const highWaterMark = Math.min(1 << 20, Math.max(16 << 10, original.size));
    const source = createReadStream(task.path, { highWaterMark, signal: options.signal });
    for await (const chunk of options.decoder.decode(source, task.path, task.layers)) {
      let at = 0;
      while (at < chunk.length) {
        const { bytesWritten } = await partial.handle.write(chunk, at, chunk.length - at);
        at += bytesWritten;
      }
      outBytes += chunk.length;
    }
  } catch (err) {
    await partial.abort();
    throw err;
  }
  await partial.commit(task.output, {
    prepare: async (path) => {
      await chmod(path, original.mode & 0o7777);
      await utimes(path, original.atime, original.mtime);
    },
  });
  if (options.removeOriginal === true) await unlink(task.path);
  return { path: task.path, output: task.output, layers: task.layers, inBytes: original.size, outBytes };
}

/** Decodes every file under `roots` that the decoder has layers to remove from. */
export async function decodeInPlace(roots: readonly string[], options: InPlaceOptions): Promise<InPlaceSummary> {
  const tasks: Task[] = [];
  const leftEncoded: string[] = [];
  for (const root of roots) await collect(root, options.decoder, tasks, true, leftEncoded);
  const outputs = new Set<string>();
  for (const t of tasks) {
    if (outputs.has(t.output)) throw new UsageError(`two files decode to the same name ${t.output}`);
    outputs.add(t.output);
  }
  const files: InPlaceFile[] = [];
  let next = 0;
  let failure: unknown;
  const parallel = Math.max(1, options.parallel ?? 1);
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < tasks.length && options.signal?.aborted !== true) {
      const task = tasks[next++] as Task;
      try {
        const done = await decodeOne(task, options);
        files.push(done);
        options.onFile?.(done);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, Math.max(1, tasks.length)) }, worker));
  if (failure !== undefined) throw failure;
  options.signal?.throwIfAborted();
  return {
    files,
    inBytes: files.reduce((s, f) => s + f.inBytes, 0),
    outBytes: files.reduce((s, f) => s + f.outBytes, 0),
    leftEncoded,
  };
}
