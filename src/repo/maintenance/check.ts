/**
 * `check`: the repository's structure (keys, config, index objects against the packs that exist,
 * snapshots, every tree and every referenced blob), and with `readData` the bytes themselves: each
 * chosen pack is read in full, its BLAKE3 compared with its name, its header opened and compared with
 * the index, and every blob opened, decompressed and checked against its id.
 *
 * Problems are collected, not thrown, so one run reports everything; each names the object and offset.
 */
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { errorMessage, IntegrityError, SluiceError } from '../../errors.js';
import { BlobIndex } from '../content/blob-index.js';
import { decodeIndex, type IndexedPack } from '../content/index-format.js';
import { decodePackHeader, decodePackTrailer, PACK_TRAILER_BYTES, type PackBlob } from '../content/pack-format.js';
import { fromHex, toHex } from '../crypto/blob-id.js';
import { idFromName, Names, ObjectKind } from '../format.js';
import { decodeKeyFile, listKeyIds } from '../keys.js';
import type { Repository } from '../repository.js';
import { listSnapshotIds, loadSnapshot } from '../snapshot/snapshots.js';
import { decodeIdList, decodeTree } from '../snapshot/tree.js';
import { forEachLimit } from '../util/parallel.js';
import type { CryptoPool } from '../workers/crypto-pool.js';

export type ReadDataSelection = { kind: 'all' } | { kind: 'fraction'; fraction: number } | { kind: 'slice'; n: number; of: number };

export interface CheckOptions {
  readData?: ReadDataSelection;
  /** Needed for readData (blobs are opened on the workers). */
  pool?: CryptoPool;
  random?: () => number;
  onProgress?: (message: string) => void;
}

export interface CheckProblem {
  /** integrity: bytes that fail a hash or tag; missing: something referenced is absent; format: malformed. */
  kind: 'integrity' | 'missing' | 'format';
  message: string;
}

export interface CheckReport {
  problems: CheckProblem[];
  notes: string[];
  keys: number;
  indexObjects: number;
  packs: number;
  blobs: number;
  snapshots: number;
  trees: number;
  packsRead: number;
  bytesRead: number;
}

function classify(err: unknown): CheckProblem['kind'] {
  if (err instanceof IntegrityError) return 'integrity';
  if (err instanceof SluiceError && (err.code === 'E_OBJECT_MISSING' || err.code === 'E_BLOB_MISSING')) return 'missing';
  return 'format';
}

export async function checkRepository(repo: Repository, options: CheckOptions = {}): Promise<CheckReport> {
  const report: CheckReport = { problems: [], notes: [], keys: 0, indexObjects: 0, packs: 0, blobs: 0, snapshots: 0, trees: 0, packsRead: 0, bytesRead: 0 };
  const problem = (kind: CheckProblem['kind'], message: string): void => {
    report.problems.push({ kind, message });
  };
  const fromError = (err: unknown, context: string): void => {
    problem(classify(err), `${context}: ${errorMessage(err)}`);
  };
  const progress = options.onProgress ?? (() => undefined);

  progress('checking key files');
  for (const id of await listKeyIds(repo.store)) {
    try {
      decodeKeyFile(await repo.store.get(Names.key(id)), id);
      report.keys += 1;
    } catch (err) {
      fromError(err, `key file ${id}`);
    }
  }

  // Listed in the reverse of the order a backup writes them (packs, index, snapshot), so a backup that
  // commits while check runs cannot make a snapshot appear whose index or packs were not listed.
  progress('listing snapshots');
  const snapshotIds = await listSnapshotIds(repo);
  const indexNames: string[] = [];
  for await (const info of repo.store.list(Names.indexPrefix)) {
    if (idFromName(info.name, Names.indexPrefix) !== undefined) indexNames.push(info.name);
  }

  progress('listing packs');
  const packSizes = new Map<string, number>();
  for await (const info of repo.store.list(Names.dataPrefix)) {
    const id = idFromName(info.name, Names.dataPrefix);
    if (id === undefined) report.notes.push(`unexpected object ${info.name} in data/`);
    else packSizes.set(id, info.size);
  }
  report.packs = packSizes.size;

  progress('checking index objects');
  const index = new BlobIndex();
  const indexed = new Map<string, IndexedPack>();
  let duplicates = 0;
  for (const name of indexNames.sort()) {
    try {
      const id = idFromName(name, Names.indexPrefix) as string;
      const plain = await repo.readObject(ObjectKind.index, name, id, 256 * 1024 * 1024, 'index object');
      decodeIndex(plain, name, (pack) => {
        const packId = toHex(pack.id);
        const size = packSizes.get(packId);
        if (size === undefined) problem('missing', `pack ${packId} listed in ${name} does not exist`);
        else if (size !== pack.size) problem('integrity', `pack ${packId} is ${size} bytes, ${name} says ${pack.size}`);
        const number = index.addPack(packId, pack.size);
        for (const b of pack.blobs) if (!index.add(b.type, b.id, number, b.offset, b.length, b.rawLength)) duplicates += 1;
        indexed.set(packId, pack);
      });
      report.indexObjects += 1;
    } catch (err) {
      fromError(err, name);
    }
  }
  report.blobs = index.size;
  if (duplicates > 0) report.notes.push(`${duplicates} blobs are stored more than once (concurrent backups); prune removes the copies`);
  const unindexed = [...packSizes.keys()].filter((id) => !indexed.has(id));
  if (unindexed.length > 0) {
    report.notes.push(`${unindexed.length} pack(s) are not in any index (left by an interrupted or running backup); prune removes them`);
  }

  progress('checking snapshots and trees');
  const seenTrees = new Set<string>();
  const missingBlobs = new Set<string>();
  const needBlob = (id: string, what: string): boolean => {
    if (index.has(fromHex(id))) return true;
    if (!missingBlobs.has(id)) {
      missingBlobs.add(id);
      problem('missing', `${what}: blob ${id} is not in any index`);
    }
    return false;
  };
  const readTreeBlob = async (id: string): Promise<Uint8Array> => {
    const location = index.lookup(fromHex(id));
    if (location === undefined) throw new SluiceError('E_BLOB_MISSING', `tree ${id} is not indexed`);
    const envelope = await repo.store.get(Names.pack(location.packId), { offset: location.offset, length: location.length });
    return repo.codec.open(ObjectKind.tree, fromHex(id), envelope, location.rawLength, { object: Names.pack(location.packId), offset: location.offset });
  };
  const walk = async (treeId: string, path: string, snapshot: string): Promise<void> => {
    if (seenTrees.has(treeId)) return;
    seenTrees.add(treeId);
    if (!needBlob(treeId, `snapshot ${snapshot.slice(0, 8)} ${path || '/'}`)) return;
    let tree;
    try {
      tree = decodeTree(await readTreeBlob(treeId), `tree ${treeId}`);
    } catch (err) {
      fromError(err, `snapshot ${snapshot.slice(0, 8)}, directory ${path || '/'} (tree ${treeId})`);
      return;
    }
    report.trees += 1;
    for (const node of tree.nodes) {
      const p = `${path}/${node.name}`;
      if (node.type === 'dir') await walk(node.subtree, p, snapshot);
      else if (node.type === 'file') {
        for (const id of node.content ?? []) needBlob(id, `snapshot ${snapshot.slice(0, 8)} ${p}`);
        for (const list of node.contentLists ?? []) {
          if (!needBlob(list, `snapshot ${snapshot.slice(0, 8)} ${p} (content list)`)) continue;
          if (seenTrees.has(list)) continue;
          seenTrees.add(list);
          try {
            for (const id of decodeIdList(await readTreeBlob(list), `list ${list}`)) needBlob(toHex(id), `snapshot ${snapshot.slice(0, 8)} ${p}`);
          } catch (err) {
            fromError(err, `snapshot ${snapshot.slice(0, 8)} ${p} (content list ${list})`);
          }
        }
      }
    }
  };
  for (const id of snapshotIds) {
    try {
      const s = await loadSnapshot(repo, id);
      report.snapshots += 1;
      await walk(s.tree, '', id);
    } catch (err) {
      fromError(err, `snapshot ${id}`);
    }
  }

  if (options.readData !== undefined) {
    const pool = options.pool;
    if (pool === undefined) throw new Error('readData needs a crypto pool');
    const chosen = selectPacks([...packSizes.keys()].sort(), options.readData, options.random ?? Math.random);
    progress(`reading ${chosen.length} of ${packSizes.size} packs`);
    await forEachLimit(chosen, 2, async (packId) => {
      const size = packSizes.get(packId) as number;
      try {
        await readPack(repo, pool, packId, size, indexed.get(packId), problem);
      } catch (err) {
        fromError(err, `pack ${packId}`);
      }
      report.packsRead += 1;
      report.bytesRead += size;
    });
  }
  return report;
}

export function selectPacks(ids: readonly string[], selection: ReadDataSelection, random: () => number): string[] {
  if (selection.kind === 'all') return [...ids];
  if (selection.kind === 'slice') {
    // Packs in slice n of `of` (by the first 4 bytes of the id), so `of` runs cover everything once.
    return ids.filter((id) => (Number.parseInt(id.slice(0, 8), 16) % selection.of) + 1 === selection.n);
  }
  const want = Math.min(ids.length, Math.max(ids.length > 0 ? 1 : 0, Math.round(ids.length * selection.fraction)));
  const pool = [...ids];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j] as string, pool[i] as string];
  }
  return pool.slice(0, want);
}

/** Reads one pack front to back: hash of all its bytes, header against the index, every blob opened. */
async function readPack(
  repo: Repository,
  pool: CryptoPool,
  packId: string,
  size: number,
  indexed: IndexedPack | undefined,
  problem: (kind: CheckProblem['kind'], message: string) => void,
): Promise<void> {
  const name = Names.pack(packId);
  const trailer = await repo.store.get(name, { offset: Math.max(0, size - PACK_TRAILER_BYTES), length: Math.min(size, PACK_TRAILER_BYTES) });
  const headerAt = decodePackTrailer(trailer, size, name);
  const headerEnvelope = await repo.store.get(name, headerAt);
  const header = decodePackHeader(repo.open(ObjectKind.packHeader, headerEnvelope, name, 'pack header'), headerAt.offset, name);
  if (indexed !== undefined && !sameBlobs(header, indexed.blobs)) {
    problem('integrity', `pack ${packId}: its header and the index disagree about its blobs`);
  }
  const hasher = new Blake3Hasher();
  const opens: Promise<void>[] = [];
  for (const blob of header) {
    const envelope = await repo.store.get(name, { offset: blob.offset, length: blob.length });
    hasher.update(envelope);
    const kind = blob.type === 'tree' ? ObjectKind.tree : ObjectKind.data;
    const opened = pool.open(kind, blob.id, envelope, blob.rawLength, name).then(
      () => undefined,
      (err: unknown) => problem('integrity', `pack ${packId}, blob ${toHex(blob.id)} at offset ${blob.offset}: ${errorMessage(err)}`),
    );
    opens.push(opened);
    if (opens.length >= 4) await opens.shift();
  }
  await Promise.all(opens);
  hasher.update(headerEnvelope);
  hasher.update(trailer);
  if (hasher.digest('hex') !== packId) problem('integrity', `pack ${packId}: its bytes do not hash to its name (the file is corrupted)`);
}

function sameBlobs(a: readonly PackBlob[], b: readonly PackBlob[]): boolean {
  if (a.length !== b.length) return false;
  const key = (x: PackBlob) => `${toHex(x.id)}:${x.type}:${x.offset}:${x.length}:${x.rawLength}`;
  const set = new Set(a.map(key));
  return b.every((x) => set.has(key(x)));
}
