/**
 * The member files of a physical snapshot as entries again, for `cat --xbstream` / `cat --tar`: a stream
 * `mbstream -x` (or tar) reads, made from the files as stored (each verified as it is read).
 */
import { tmpdir } from 'node:os';
import { writeTar } from '../../container/tar/writer.js';
import { writeXbstream } from '../../container/xbstream/writer.js';
import type { Entry } from '../../entry.js';
import { UsageError } from '../../errors.js';
import type { Repository } from '../../repo/repository.js';
import { readFile } from '../../repo/snapshot/stored-file-reader.js';
import type { TreeNode } from '../../repo/snapshot/tree.js';
import { walkTree } from '../../repo/snapshot/walker.js';
import type { CryptoPool } from '../../repo/workers/crypto-pool.js';

export async function* memberEntries(repo: Repository, pool: CryptoPool, root: TreeNode, options: { concurrency?: number; signal?: AbortSignal } = {}): AsyncGenerator<Entry> {
  if (root.type !== 'dir') throw new UsageError('a physical backup is a directory of the snapshot (e.g. latest:/mariadb)');
  for await (const { path, node } of walkTree(repo, root.subtree, '')) {
    const meta = { path, mode: node.mode, mtimeMs: node.mtime, ...(node.uid === undefined ? {} : { uid: node.uid }), ...(node.gid === undefined ? {} : { gid: node.gid }) };
    if (node.type === 'dir') yield { ...meta, kind: 'dir' };
    else if (node.type === 'symlink') yield { ...meta, kind: 'symlink', target: node.target };
    else yield { ...meta, kind: 'file', size: node.size, content: readFile(repo, pool, node, `/${path}`, options) };
  }
}

export function emitStream(entries: AsyncIterable<Entry>, format: 'xbstream' | 'tar', onSkip?: (path: string, why: string) => void): AsyncIterable<Uint8Array> {
  if (format === 'xbstream') return writeXbstream(entries, { ...(onSkip === undefined ? {} : { onSkip: (path, kind) => onSkip(path, kind) }) });
  return writeTar(entries, { spoolDirectory: tmpdir() });
}
