/**
 * `prune`: mark and sweep at pack granularity, under an exclusive lock (no backup can be adding
 * references meanwhile).
 *
 *   1. Mark: every blob reachable from a snapshot (trees, content lists, data). A referenced blob that
 *      is not indexed stops prune: the repository needs `check` first, and deleting more would hurt.
 *   2. Count, per pack, the bytes of blobs still used (a blob stored twice counts once).
 *   3. Delete packs with nothing used and packs no index lists (left by interrupted backups); repack
 *      the most wasteful partly used packs until unused bytes are under `maxUnused` of the used bytes,
 *      and merge small packs.
 *   4. Order of writes, so a crash at any point leaves a consistent repository: new packs, then a new
 *      complete index, then delete the old index objects, then delete the packs.
 *
 * Memory: one id set for the used blobs and one for the placed ones, plus a few numbers per pack; the
 * index objects are streamed twice rather than held.
 */
import { errorMessage, SluiceError } from '../../errors.js';
import { BlobIndex } from '../content/blob-index.js';
import { BlobWriter } from '../content/blob-writer.js';
import type { IndexedPack } from '../content/index-format.js';
import { fromHex, toHex } from '../crypto/blob-id.js';
import { idFromName, Names, ObjectKind } from '../format.js';
import type { Repository } from '../repository.js';
import { listSnapshots } from '../snapshot/snapshots.js';
import { decodeIdList, decodeTree } from '../snapshot/tree.js';
import type { CryptoPool } from '../workers/crypto-pool.js';
import { deleteObjects } from '../storage/object-store.js';

export interface PruneOptions {
  /** Unused bytes tolerated in kept packs, as a fraction of used bytes (default 0.05). */
  maxUnused?: number;
  dryRun?: boolean;
  pool: CryptoPool;
  onProgress?: (message: string) => void;
}

export interface PruneReport {
  dryRun: boolean;
  snapshots: number;
  usedBlobs: number;
  packsBefore: number;
  bytesBefore: number;
  unusedBytesBefore: number;
  packsDeleted: number;
  unindexedPacksDeleted: number;
  packsRepacked: number;
  packsWritten: number;
  bytesDeleted: number;
  bytesWritten: number;
  packsAfter: number;
  bytesAfter: number;
  indexObjectsBefore: number;
  indexObjectsAfter: number;
}

interface PackUsage {
  id: string;
  size: number;
  blobs: number;
  usedBlobs: number;
  usedBytes: number;
}

/** An id set: the blob index without locations. */
class IdSet {
  readonly #index = new BlobIndex();
  add(id: Uint8Array): boolean {
    return this.#index.add('data', id, 0, 0, 0, 0);
  }
  has(id: Uint8Array): boolean {
    return this.#index.has(id);
  }
  get size(): number {
    return this.#index.size;
  }
}

export async function markUsed(repo: Repository, progress: (m: string) => void): Promise<{ used: IdSet; snapshots: number }> {
  await repo.loadIndex();
  const used = new IdSet();
  const need = (id: Uint8Array, what: string): void => {
    if (!repo.index.has(id)) {
      throw new SluiceError('E_PRUNE_DAMAGED', `${what} needs blob ${toHex(id)}, which no index lists; run \`sluice check\` (prune deletes nothing when the repository is damaged)`);
    }
    used.add(id);
  };
  const snapshots = await listSnapshots(repo);
  progress(`marking blobs used by ${snapshots.length} snapshots`);
  const walk = async (treeId: string, where: string): Promise<void> => {
    const id = fromHex(treeId);
    if (used.has(id)) return;
    need(id, where);
    const tree = decodeTree(await repo.readBlob(id, 'tree'), `tree ${treeId}`);
    for (const node of tree.nodes) {
      const path = `${where}/${node.name}`;
      if (node.type === 'dir') await walk(node.subtree, path);
      else if (node.type === 'file') {
        for (const data of node.content ?? []) need(fromHex(data), path);
        for (const list of node.contentLists ?? []) {
          const listId = fromHex(list);
          if (used.has(listId)) continue;
          need(listId, path);
          for (const data of decodeIdList(await repo.readBlob(listId, 'tree'), `list ${list}`)) need(data, path);
        }
      }
    }
  };
  for (const { id, snapshot } of snapshots) await walk(snapshot.tree, `snapshot ${id.slice(0, 8)} `);
  return { used, snapshots: snapshots.length };
}

export async function prune(repo: Repository, options: PruneOptions): Promise<PruneReport> {
  const progress = options.onProgress ?? (() => undefined);
  const maxUnused = options.maxUnused ?? 0.05;
  const { used, snapshots } = await markUsed(repo, progress);

  progress('counting used bytes per pack');
  const existing = new Map<string, number>();
  for await (const info of repo.store.list(Names.dataPrefix)) {
    const id = idFromName(info.name, Names.dataPrefix);
    if (id !== undefined) existing.set(id, info.size);
  }
  const packs = new Map<string, PackUsage>();
  const placed = new IdSet();
  const oldIndexNames = await repo.forEachIndexedPack((pack) => {
    const id = toHex(pack.id);
    if (packs.has(id)) return;
    const usage: PackUsage = { id, size: pack.size, blobs: pack.blobs.length, usedBlobs: 0, usedBytes: 0 };
    for (const b of pack.blobs) {
      if (used.has(b.id) && placed.add(b.id)) {
        usage.usedBlobs += 1;
        usage.usedBytes += b.length;
      }
    }
    packs.set(id, usage);
  });
  for (const usage of packs.values()) {
    if (!existing.has(usage.id) && usage.usedBlobs > 0) {
      throw new SluiceError('E_PRUNE_DAMAGED', `pack ${usage.id} holds used blobs but does not exist; run \`sluice check\``);
    }
  }

  const remove: PackUsage[] = [];
  const partial: PackUsage[] = [];
  const keep: PackUsage[] = [];
  for (const usage of packs.values()) {
    if (!existing.has(usage.id)) continue;
    if (usage.usedBlobs === 0) remove.push(usage);
    else if (usage.usedBlobs < usage.blobs) partial.push(usage);
    else keep.push(usage);
  }
  const unindexed = [...existing.keys()].filter((id) => !packs.has(id));
  const usedBytes = [...partial, ...keep].reduce((n, p) => n + p.usedBytes, 0);
  let unusedLeft = partial.reduce((n, p) => n + (p.size - p.usedBytes), 0);
  const repack: PackUsage[] = [];
  for (const p of [...partial].sort((a, b) => (b.size - b.usedBytes) / b.size - (a.size - a.usedBytes) / a.size)) {
    if (unusedLeft <= maxUnused * usedBytes) keep.push(p);
    else {
      repack.push(p);
      unusedLeft -= p.size - p.usedBytes;
    }
  }
  // Small packs (the tail of each backup, tree packs) are merged once there are several.
  const small = keep.filter((p) => p.size < repo.config.packSize / 8);
  if (small.length >= 4) {
    for (const p of small) {
      keep.splice(keep.indexOf(p), 1);
      repack.push(p);
    }
  }

  const report: PruneReport = {
    dryRun: options.dryRun === true,
    snapshots,
    usedBlobs: used.size,
    packsBefore: existing.size,
    bytesBefore: [...existing.values()].reduce((n, s) => n + s, 0),
    unusedBytesBefore: [...packs.values()].filter((p) => existing.has(p.id)).reduce((n, p) => n + p.size - p.usedBytes, 0) + unindexed.reduce((n, id) => n + (existing.get(id) ?? 0), 0),
    packsDeleted: remove.length,
    unindexedPacksDeleted: unindexed.length,
    packsRepacked: repack.length,
    packsWritten: 0,
    bytesDeleted: 0,
    bytesWritten: 0,
    packsAfter: 0,
    bytesAfter: 0,
    indexObjectsBefore: oldIndexNames.length,
    indexObjectsAfter: 0,
  };
  const doomed = [...remove.map((p) => p.id), ...repack.map((p) => p.id), ...unindexed];
  report.bytesDeleted = doomed.reduce((n, id) => n + (existing.get(id) ?? 0), 0);
  if (options.dryRun === true || (doomed.length === 0 && oldIndexNames.length <= 1)) {
    report.packsAfter = existing.size - (options.dryRun === true ? doomed.length : 0);
    report.bytesAfter = report.bytesBefore - (options.dryRun === true ? report.bytesDeleted : 0);
    report.indexObjectsAfter = oldIndexNames.length;
    if (options.dryRun !== true) report.packsDeleted = report.unindexedPacksDeleted = report.packsRepacked = report.bytesDeleted = 0;
    return report;
  }

  // Repack: copy the used blobs of `repack` packs into new packs. Sealed blobs are copied as they are
  // (their associated data does not name the pack), after opening each to be sure the copy is good.
  const repackSet = new Set(repack.map((p) => p.id));
  const newIndex = new BlobIndex();
  const written: IndexedPack[] = [];
  const writer = new BlobWriter(
    {
      store: repo.store,
      dataKey: repo.dataKey,
      repoId: repo.repoId,
      index: newIndex,
      writeIndex: async (packsDone) => {
        written.push(...packsDone);
        return '';
      },
    },
    { packSize: repo.config.packSize, indexEveryPacks: Number.MAX_SAFE_INTEGER, indexEveryMs: Number.MAX_SAFE_INTEGER },
  );
  if (repack.length > 0) {
    progress(`repacking ${repack.length} packs`);
    const copied = new IdSet();
    const work: { pack: string; type: 'data' | 'tree'; id: Uint8Array; offset: number; length: number; rawLength: number }[] = [];
    await repo.forEachIndexedPack((pack) => {
      const id = toHex(pack.id);
      if (!repackSet.has(id)) return;
      for (const b of pack.blobs) if (used.has(b.id) && copied.add(b.id)) work.push({ pack: id, ...b });
    });
    // Blobs already placed in a pack we keep need no copy.
    const placedInKept = new IdSet();
    const kept = new Set(keep.map((p) => p.id));
    await repo.forEachIndexedPack((pack) => {
      if (!kept.has(toHex(pack.id))) return;
      for (const b of pack.blobs) placedInKept.add(b.id);
    });
    for (const item of work) {
      if (placedInKept.has(item.id)) continue;
      const envelope = await repo.store.get(Names.pack(item.pack), { offset: item.offset, length: item.length });
      if (envelope.length !== item.length) throw new SluiceError('E_SHORT_READ', `short read of a blob in pack ${item.pack}`);
      await options.pool.open(item.type === 'tree' ? ObjectKind.tree : ObjectKind.data, item.id, Uint8Array.from(envelope), item.rawLength, Names.pack(item.pack));
      if (writer.reserve(item.id)) await writer.add(item.type, item.id, [envelope], item.rawLength);
    }
    await writer.flush();
    report.packsWritten = writer.stats.packs;
    report.bytesWritten = writer.stats.storedBytes;
  }

  progress('writing the new index');
  const keepSet = new Set(keep.map((p) => p.id));
  const emitted = new Set<string>();
  const batch: IndexedPack[] = [...written];
  let batchBlobs = batch.reduce((n, p) => n + p.blobs.length, 0);
  const newIndexNames: string[] = [];
  const flushBatch = async (): Promise<void> => {
    if (batch.length === 0) return;
    newIndexNames.push(Names.index(await repo.writeIndex(batch)));
    batch.length = 0;
    batchBlobs = 0;
  };
  const pending: IndexedPack[] = [];
  await repo.forEachIndexedPack((pack) => {
    const id = toHex(pack.id);
    if (!keepSet.has(id) || emitted.has(id)) return;
    emitted.add(id);
    pending.push(pack);
  });
  for (const pack of pending) {
    batch.push(pack);
    batchBlobs += pack.blobs.length;
    if (batchBlobs >= 500_000) await flushBatch();
  }
  await flushBatch();

  progress('deleting old index objects and packs');
  const keepNames = new Set(newIndexNames);
  await deleteObjects(repo.store, oldIndexNames.filter((name) => !keepNames.has(name)));
  try {
    await deleteObjects(repo.store, doomed.map((id) => Names.pack(id)));
  } catch (err) {
    progress(`could not delete every unused pack: ${errorMessage(err)}`);
  }
  report.packsAfter = existing.size - doomed.length + report.packsWritten;
  report.bytesAfter = report.bytesBefore - report.bytesDeleted + report.bytesWritten;
  report.indexObjectsAfter = newIndexNames.length;
  return report;
}
