/**
 * The member files of a physical snapshot as entries again, for `cat --xbstream` / `cat --tar`: a stream
 * `mbstream -x` (or tar) reads, made from the files as stored (each verified as it is read).
 */
import { tmpdir } from 'node:os';
import { writeXbstream } from '../../container/xbstream/writer.js';
import { type Entry, toSafePath } from '../../entry.js';
import { UsageError } from '../../errors.js';
import type { Repository } from '../../repo/repository.js';
import { listSnapshots, resolveSnapshot, shortId } from '../../repo/snapshot/snapshots.js';
import { readFile } from '../../repo/snapshot/stored-file-reader.js';
import type { TreeNode } from '../../repo/snapshot/tree.js';
import { findNode, walkTree } from '../../repo/snapshot/walker.js';
import type { CryptoPool } from '../../repo/workers/crypto-pool.js';
import { cryptoPoolFor } from '../repository/crypto-pool.js';
import { splitRef } from '../repository/ref.js';
import { type SentStream, sendStream, type StreamOutput } from '../stream/output.js';
import { StreamCounter, type StreamProgress } from '../stream/progress.js';
import { readMetadata } from './metadata.js';

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
  return (async function* () {
    const { writeTar } = await import('../../container/tar/writer.js'); // `tar` costs start-up: loaded only for tar
    yield* writeTar(entries, { spoolDirectory: tmpdir() });
  })();
}

export interface CatPhysicalOptions extends StreamOutput {
  /** `xbstream` (what `mbstream -x` reads: MariaDB) or `tar` (PostgreSQL, or any directory). */
  format: 'xbstream' | 'tar';
  /** The directory to stream when `snapshot` has no `:PATH` (default: the physical backup's root). */
  path?: string;
  /** With `latest`: the newest snapshot of this host. */
  host?: string;
  /** Chunks fetched and decrypted at once (default 8). */
  concurrency?: number;
  /** A member the format cannot carry (xbstream: symlinks, empty directories). */
  onSkip?: (path: string, why: string) => void;
  onProgress?: (progress: StreamProgress) => void;
}

/**
 * Writes the member files of a physical snapshot (`ID[:PATH]`, `latest`) to `options.output` as the
 * stream the engine's tool would have made (`cat --xbstream` / `cat --tar`), each file verified as it
 * is read. Without a path, the snapshot must be a physical backup (it has `/physical.json`).
 */
export async function catPhysical(repo: Repository, snapshot: string, options: CatPhysicalOptions): Promise<SentStream> {
  const split = splitRef(snapshot);
  const all = await listSnapshots(repo);
  const ref = resolveSnapshot(all, split.snapshot, options.host === undefined ? {} : { host: options.host });
  await repo.loadIndex();
  const pool = cryptoPoolFor(repo);
  try {
    let within = split.path ?? options.path;
    if (within === undefined) {
      const metadata = await readMetadata(repo, pool, ref);
      if (metadata === undefined) throw new UsageError(`snapshot ${shortId(ref.id)} is not a physical backup: give the directory to stream (SNAPSHOT:/PATH)`);
      within = metadata.root;
    }
    const trimmed = within.replace(/^\/+|\/+$/g, '');
    const node = await findNode(repo, ref.snapshot.tree, trimmed === '' ? '' : toSafePath(trimmed));
    const counter = new StreamCounter(options.onProgress);
    const entries = memberEntries(repo, pool, node, { concurrency: options.concurrency ?? 8, ...(options.signal === undefined ? {} : { signal: options.signal }) });
    return await sendStream(emitStream(entries, options.format, options.onSkip), options, counter);
  } finally {
    await pool.close();
  }
}
