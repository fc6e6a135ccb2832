/**
 * Restores (part of) a snapshot into a directory through the safe directory sink: every path is a
 * validated relative path, nothing is written through a symlink or outside the target, and a file
 * appears under its name only once it is complete and verified (length and SHA-256).
 *
 * All-zero chunks are not written, so sparse files stay sparse.
 */
import type { SafePath } from '../../entry.js';
import { toSafePath } from '../../entry.js';
import { withContext } from '../../errors.js';
import { DirectorySink } from '../../sink/dir.js';
import type { Repository } from '../repository.js';
import type { CryptoPool } from '../workers/crypto-pool.js';
import { readFile } from './stored-file-reader.js';
import type { TreeNode } from './tree.js';
import { walkTree } from './walker.js';

export interface RestoreOptions {
  /** Paths (relative to the restored root) to restore, with everything below them; all when empty. */
  include?: readonly string[];
  overwrite?: boolean;
  concurrency?: number;
  signal?: AbortSignal;
  onFile?: (path: string, bytes: number) => void;
}

export interface RestoreStats {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

const ZEROS = new Uint8Array(64 * 1024);

function isAllZero(data: Uint8Array): boolean {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at < view.length; at += ZEROS.length) {
    const n = Math.min(ZEROS.length, view.length - at);
    if (!view.subarray(at, at + n).equals(ZEROS.subarray(0, n))) return false;
  }
  return true;
}

function wanted(path: string, include: readonly string[]): 'yes' | 'ancestor' | 'no' {
  if (include.length === 0) return 'yes';
  let ancestor = false;
  for (const inc of include) {
    if (path === inc || path.startsWith(`${inc}/`)) return 'yes';
    if (inc.startsWith(`${path}/`)) ancestor = true;
  }
  return ancestor ? 'ancestor' : 'no';
}

/**
 * Restores `root` (a directory node: its contents go directly into `target`; a file node: the file
 * goes into `target` under its name).
 */
export async function restoreTree(repo: Repository, pool: CryptoPool, root: TreeNode, target: string, options: RestoreOptions = {}): Promise<RestoreStats> {
  const sink = await DirectorySink.create(target, { overwrite: options.overwrite === true, preserveOwner: false });
  const include = (options.include ?? []).map((p) => p.replace(/^\/+/, '').replace(/\/+$/, '')).filter((p) => p !== '');
  const stats: RestoreStats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  const items: AsyncIterable<{ path: SafePath; node: TreeNode }> =
    root.type === 'dir' ? walkTree(repo, root.subtree, '') : single(toSafePath(root.name), root);
  try {
    for await (const { path, node } of items) {
      options.signal?.throwIfAborted();
      const want = wanted(path, include);
      if (want === 'no') continue;
      if (node.type === 'dir') {
        await sink.mkdir(path, want === 'yes' ? { mode: node.mode, mtimeMs: node.mtime } : undefined);
        stats.dirs += 1;
      } else if (want === 'ancestor') {
        continue;
      } else if (node.type === 'symlink') {
        await sink.symlink(path, node.target, { mtimeMs: node.mtime });
        stats.symlinks += 1;
      } else {
        const file = await sink.openFile(path);
        try {
          let position = 0;
          for await (const data of readFile(repo, pool, node, `/${path}`, {
            ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
            ...(options.signal === undefined ? {} : { signal: options.signal }),
          })) {
            if (!isAllZero(data)) await file.write(data, position);
            position += data.length;
          }
          await file.commit({ mode: node.mode, mtimeMs: node.mtime, minSize: node.size });
        } catch (err) {
          await file.abort();
          throw withContext(err, { path: `/${path}` });
        }
        stats.files += 1;
        stats.bytes += node.size;
        options.onFile?.(path, node.size);
      }
    }
    await sink.finish();
  } catch (err) {
    await sink.abortAll();
    throw err;
  }
  return stats;
}

async function* single(path: SafePath, node: TreeNode): AsyncGenerator<{ path: SafePath; node: TreeNode }> {
  yield { path, node };
}
