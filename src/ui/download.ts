/**
 * Downloads: a file or stream as it was stored, or a directory as a tar stream. Both are pulled chunk by
 * chunk as the socket drains (never held whole), every chunk verified, the length and SHA-256 checked at
 * the end; a failure cuts the connection, so the client sees an incomplete download, never a wrong one.
 */
import { tmpdir } from 'node:os';
import type { Entry } from '../entry.js';
import { toSafePath } from '../entry.js';
import { writeTar } from '../container/tar/writer.js';
import type { Repository } from '../repo/repository.js';
import { readFile } from '../repo/snapshot/stored-file-reader.js';
import type { DirNode, FileNode } from '../repo/snapshot/tree.js';
import { walkTree } from '../repo/snapshot/walker.js';
import type { CryptoPool } from '../repo/workers/crypto-pool.js';

export function fileBytes(repo: Repository, pool: CryptoPool, node: FileNode, path: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  return readFile(repo, pool, node, path, { concurrency: 4, ...(signal === undefined ? {} : { signal }) });
}

/** The directory's entries under its own name (`etc/`, `etc/hosts`, …), files with their recorded sizes. */
async function* dirEntries(repo: Repository, pool: CryptoPool, node: DirNode, name: string, at: string, signal?: AbortSignal): AsyncGenerator<Entry> {
  const root = toSafePath(name);
  yield { kind: 'dir', path: root, mode: node.mode, mtimeMs: node.mtime };
  for await (const item of walkTree(repo, node.subtree, root)) {
    signal?.throwIfAborted();
    const n = item.node;
    const base = { path: item.path, mode: n.mode, mtimeMs: n.mtime, ...(n.uid === undefined ? {} : { uid: n.uid }), ...(n.gid === undefined ? {} : { gid: n.gid }) };
    if (n.type === 'dir') yield { ...base, kind: 'dir' };
    else if (n.type === 'symlink') yield { ...base, kind: 'symlink', target: n.target };
    else {
      const full = `${at}/${item.path.slice(root.length + 1)}`;
      yield { ...base, kind: 'file', size: n.size, content: fileBytes(repo, pool, n, full, signal) };
    }
  }
}

export function dirTar(repo: Repository, pool: CryptoPool, node: DirNode, name: string, at: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  return writeTar(dirEntries(repo, pool, node, name, at, signal), { spoolDirectory: tmpdir() });
}
