/**
 * Copies snapshots from one repository to another. Blob ids are keyed per repository, so nothing can be
 * copied as it is: each data blob is opened (verified) with the source's keys, gets its id under the
 * target's key, and is sealed for the target only when the target lacks that id; tree and content-list
 * blobs are rewritten with the translated ids. The target's snapshot is written after its blobs are
 * stored and indexed, so an interrupted copy leaves no snapshot, and the next run reuses what it stored.
 *
 * A snapshot counts as present in the target when one there has the same time, host, user, paths,
 * streams and tags (the tree id cannot be compared across keys): a second run copies nothing.
 */
import { ObjectKind } from '../format.js';
import { BlobWriter } from '../content/blob-writer.js';
import { fromHex, toHex } from '../crypto/blob-id.js';
import type { Repository } from '../repository.js';
import { listSnapshots, type Snapshot, type SnapshotRef, writeSnapshot } from './../snapshot/snapshots.js';
import { decodeIdList, decodeTree, encodeTree, type TreeNode } from '../snapshot/tree.js';
import { mapLimit } from '../util/parallel.js';

export interface CopyOptions {
  /** Packs uploaded at once to the target. */
  uploads?: number;
  /** Blobs read from the source at once. */
  reads?: number;
  /** zstd level for re-sealed data blobs (default: the target's). */
  level?: number;
  onSnapshot?: (event: { source: SnapshotRef; copied?: string; skipped?: 'present' }) => void;
}

export interface CopyReport {
  snapshotsCopied: number;
  snapshotsSkipped: number;
  blobsCopied: number;
  bytesCopied: number;
  packsWritten: number;
}

/** What makes two snapshots the same one, across repositories. */
export function snapshotIdentity(s: Snapshot): string {
  return JSON.stringify([s.time, s.host, s.user, [...s.paths].sort(), [...s.streams].sort(), [...s.tags].sort()]);
}

const TREE_LEVEL = 6;

export async function copySnapshots(source: Repository, target: Repository, selected: readonly SnapshotRef[], options: CopyOptions = {}): Promise<CopyReport> {
  await Promise.all([source.loadIndex(), target.loadIndex()]);
  const present = new Set((await listSnapshots(target)).map((s) => snapshotIdentity(s.snapshot)));
  const writer = new BlobWriter(target, {
    packSize: target.config.packSize,
    ...(options.uploads === undefined ? {} : { maxUploads: options.uploads }),
  });
  const level = options.level ?? target.config.compressionLevel;
  const reads = options.reads ?? 8;
  const report: CopyReport = { snapshotsCopied: 0, snapshotsSkipped: 0, blobsCopied: 0, bytesCopied: 0, packsWritten: 0 };
  // Source id (hex) -> target id (hex), shared by every snapshot of the run.
  const translated = new Map<string, Promise<string>>();

  const once = (id: string, work: () => Promise<string>): Promise<string> => {
    let p = translated.get(id);
    if (p === undefined) translated.set(id, (p = work()));
    return p;
  };

  const store = async (type: 'data' | 'tree', plain: Uint8Array, sealLevel: number): Promise<string> => {
    const id = target.blobId(plain);
    if (writer.reserve(id)) {
      const { parts } = target.codec.seal(type === 'data' ? ObjectKind.data : ObjectKind.tree, id, plain, sealLevel);
      await writer.add(type, id, parts, plain.length);
      report.blobsCopied += 1;
      report.bytesCopied += plain.length;
    }
    return toHex(id);
  };

  const dataBlob = (id: string): Promise<string> => once(id, async () => store('data', await source.readBlob(fromHex(id), 'data'), level));

  const dataBlobs = (ids: readonly string[]): Promise<string[]> => mapLimit(ids, reads, (id) => dataBlob(id));

  const listBlob = (id: string): Promise<string> =>
    once(id, async () => {
      const plain = await source.readBlob(fromHex(id), 'tree');
      const ids = await dataBlobs(decodeIdList(plain, `list blob ${id}`).map((raw) => toHex(raw)));
      return store('tree', Buffer.concat(ids.map((h) => fromHex(h))), TREE_LEVEL);
    });

  const treeBlob = (id: string): Promise<string> =>
    once(id, async () => {
      const tree = decodeTree(await source.readBlob(fromHex(id), 'tree'), `tree blob ${id}`);
      const nodes: TreeNode[] = [];
      for (const node of tree.nodes) {
        if (node.type === 'dir') nodes.push({ ...node, subtree: await treeBlob(node.subtree) });
        else if (node.type === 'file' && node.content !== undefined) nodes.push({ ...node, content: await dataBlobs(node.content) });
        else if (node.type === 'file' && node.contentLists !== undefined) {
          const lists: string[] = [];
          for (const list of node.contentLists) lists.push(await listBlob(list));
          nodes.push({ ...node, contentLists: lists });
        } else nodes.push(node);
      }
      return store('tree', encodeTree(nodes), TREE_LEVEL);
    });

  try {
    for (const ref of selected) {
      const identity = snapshotIdentity(ref.snapshot);
      if (present.has(identity)) {
        report.snapshotsSkipped += 1;
        options.onSnapshot?.({ source: ref, skipped: 'present' });
        continue;
      }
      const tree = await treeBlob(ref.snapshot.tree);
      await writer.flush();
      const { parent: _parent, ...rest } = ref.snapshot;
      const copied = await writeSnapshot(target, { ...rest, tree });
      present.add(identity);
      report.snapshotsCopied += 1;
      options.onSnapshot?.({ source: ref, copied });
    }
  } catch (err) {
    await writer.abandon();
    throw err;
  }
  report.packsWritten = writer.stats.packs;
  return report;
}
