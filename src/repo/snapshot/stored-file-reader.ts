/**
 * Reads a file or stream back from a snapshot: fetches and opens up to `concurrency` chunks at once
 * (ranged reads, then the workers decrypt, decompress and check each chunk's keyed id), and yields them
 * in order. At the end the length and SHA-256 recorded at backup time are checked; a mismatch is an
 * IntegrityError (exit status 4). Memory: `concurrency` chunks.
 */
import { createHash } from 'node:crypto';
import { IntegrityError, SluiceError, withContext } from '../../errors.js';
import { fromHex, toHex } from '../crypto/blob-id.js';
import { Names, ObjectKind } from '../format.js';
import type { Repository } from '../repository.js';
import type { CryptoPool } from '../workers/crypto-pool.js';
import { decodeIdList, type FileNode } from './tree.js';

export interface ReadFileOptions {
  concurrency?: number;
  /** Called with each chunk's length as it is yielded. */
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
}

/** The node's data blob ids in order (content lists are read one at a time). */
export async function* chunkIds(repo: Repository, node: FileNode, path: string): AsyncGenerator<Uint8Array> {
  if (node.content !== undefined) {
    for (const id of node.content) yield fromHex(id);
    return;
  }
  for (const list of node.contentLists ?? []) {
    const ids = decodeIdList(await repo.readBlob(fromHex(list), 'tree'), `content list ${list} of ${path}`);
    yield* ids;
  }
}

export async function* readFile(repo: Repository, pool: CryptoPool, node: FileNode, path: string, options: ReadFileOptions = {}): AsyncGenerator<Uint8Array> {
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const hash = createHash('sha256');
  const window: { chunk: number; offset: number; data: Promise<Uint8Array> }[] = [];
  const ids = chunkIds(repo, node, path);
  let chunk = 0;
  let offset = 0;
  let written = 0;
  let done = false;

  const fetch = async (id: Uint8Array, where: { chunk: number; offset: number }): Promise<Uint8Array> => {
    const location = repo.lookup(id);
    if (location === undefined) {
      throw new SluiceError('E_BLOB_MISSING', `chunk ${toHex(id).slice(0, 16)} is not in the repository index`, { path, ...where });
    }
    try {
      const envelope = await repo.readEnvelope(id, location);
      return await pool.open(ObjectKind.data, id, envelope, location.rawLength, Names.pack(location.packId));
    } catch (err) {
      throw withContext(err, { path, ...where });
    }
  };

  const fill = async (): Promise<void> => {
    while (!done && window.length < concurrency) {
      const next = await ids.next();
      if (next.done === true) {
        done = true;
        break;
      }
      chunk += 1;
      const location = repo.lookup(next.value);
      const where = { chunk, offset };
      const data = fetch(next.value, where);
      data.catch(() => undefined); // observed when it reaches the front of the window
      window.push({ chunk, offset, data });
      offset += location?.rawLength ?? 0;
    }
  };

  try {
    await fill();
    while (window.length > 0) {
      options.signal?.throwIfAborted();
      const head = window.shift() as (typeof window)[number];
      const data = await head.data;
      await fill();
      hash.update(data);
      written += data.length;
      options.onBytes?.(data.length);
      yield data;
    }
  } finally {
    await ids.return(undefined);
    await Promise.allSettled(window.map((w) => w.data));
  }
  if (written !== node.size) {
    throw new IntegrityError('E_SIZE_MISMATCH', `restored ${written} bytes but the snapshot recorded ${node.size}`, { path });
  }
  const digest = hash.digest('hex');
  if (digest !== node.sha256) {
    throw new IntegrityError('E_DIGEST_MISMATCH', `SHA-256 of the restored data is ${digest}, the snapshot recorded ${node.sha256}`, { path });
  }
}
