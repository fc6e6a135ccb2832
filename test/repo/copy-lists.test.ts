/**
 * `copySnapshots` at the library level, on memory stores: content-list blobs (huge files) and nested
 * trees are rewritten with the target's ids, data is re-sealed under the target's keys, and a second
 * copy stores nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { BlobWriter } from '../../src/repo/content/blob-writer.js';
import { toHex } from '../../src/repo/crypto/blob-id.js';
import { ObjectKind } from '../../src/repo/format.js';
import { copySnapshots } from '../../src/repo/maintenance/copy.js';
import type { Repository } from '../../src/repo/repository.js';
import { listSnapshots, loadSnapshot, writeSnapshot } from '../../src/repo/snapshot/snapshots.js';
import { decodeIdList, decodeTree, encodeTree, type FileNode } from '../../src/repo/snapshot/tree.js';
import { MemoryStore } from '../../src/repo/storage/memory.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { memoryRepo } from './helpers.js';

async function put(writer: BlobWriter, repo: Repository, type: 'data' | 'tree', plain: Uint8Array): Promise<string> {
  const id = repo.blobId(plain);
  if (writer.reserve(id)) await writer.add(type, id, repo.codec.seal(type === 'data' ? ObjectKind.data : ObjectKind.tree, id, plain, 1).parts, plain.length);
  return toHex(id);
}

test('copy: list blobs and subtrees get the target ids; a second copy stores nothing', async () => {
  const source = await memoryRepo(new MemoryStore(), { seed: 1 });
  const target = await memoryRepo(new MemoryStore(), { seed: 2 });
  const writer = new BlobWriter(source, { packSize: 1 << 20 });
  const a = pseudoRandomBytes(70_000, 1);
  const b = pseudoRandomBytes(50_000, 2);
  const ia = await put(writer, source, 'data', a);
  const ib = await put(writer, source, 'data', b);
  const list = await put(writer, source, 'tree', Buffer.concat([ia, ib, ia].map((h) => Buffer.from(h, 'hex'))));
  const whole = Buffer.concat([a, b, a]);
  const file: FileNode = { name: 'big.bin', type: 'file', mode: 0o600, mtime: 1, size: whole.length, sha256: createHash('sha256').update(whole).digest('hex'), contentLists: [list] };
  const sub = await put(writer, source, 'tree', encodeTree([file, { name: 'small', type: 'file', mode: 0o644, mtime: 2, size: b.length, sha256: 'ab'.repeat(32), content: [ib] }]));
  const root = await put(writer, source, 'tree', encodeTree([{ name: 'dir', type: 'dir', mode: 0o755, mtime: 3, subtree: sub }]));
  await writer.flush();
  await writeSnapshot(source, {
    time: '2026-01-01T00:00:00.000Z', host: 'h', user: 'u', tags: ['t'], paths: ['/dir'], streams: [], tree: root, program: 'test',
    summary: { files: 2, dirs: 1, symlinks: 0, bytes: whole.length + b.length, newBytes: 0, storedBytes: 0, durationMs: 0 },
  });

  const first = await copySnapshots(source, target, await listSnapshots(source));
  assert.equal(first.snapshotsCopied, 1);
  assert.equal(first.blobsCopied, 5, 'two data blobs, one list, two trees');
  const [copied] = await listSnapshots(target);
  assert.ok(copied !== undefined);
  const snap = await loadSnapshot(target, copied.id);
  assert.notEqual(snap.tree, root, 'ids are keyed per repository');
  const rootTree = decodeTree(await target.readBlob(Buffer.from(snap.tree, 'hex'), 'tree'), 'root');
  const dir = rootTree.nodes[0];
  assert.ok(dir?.type === 'dir');
  const subTree = decodeTree(await target.readBlob(Buffer.from(dir.subtree, 'hex'), 'tree'), 'sub');
  const big = subTree.nodes.find((n) => n.name === 'big.bin') as FileNode;
  const ids = decodeIdList(await target.readBlob(Buffer.from(big.contentLists?.[0] as string, 'hex'), 'tree'), 'list');
  const parts = await Promise.all(ids.map((id) => target.readBlob(id, 'data')));
  assert.ok(Buffer.concat(parts).equals(whole));
  assert.equal(big.sha256, file.sha256);
  const small = subTree.nodes.find((n) => n.name === 'small') as FileNode;
  assert.ok(Buffer.from(await target.readBlob(Buffer.from(small.content?.[0] as string, 'hex'), 'data')).equals(b));

  const again = await copySnapshots(source, target, await listSnapshots(source));
  assert.deepEqual([again.snapshotsCopied, again.snapshotsSkipped, again.blobsCopied], [0, 1, 0]);
});
