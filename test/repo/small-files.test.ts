/**
 * Small files of a tree are read by path, hashed and sealed in batches on the workers
 * (Archiver.addTree with `readFrom`). These tests drive the archiver with entries whose stat sizes the
 * test chooses, so files that changed since the walk can be staged deterministically.
 */
import assert from 'node:assert/strict';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Entry, toSafePath } from '../../src/entry.js';
import { ContentWriter } from '../../src/repo/content/content-writer.js';
import { checkRepository } from '../../src/repo/maintenance/check.js';
import { Archiver } from '../../src/repo/snapshot/archiver.js';
import { readFile as readSnapshotFile } from '../../src/repo/snapshot/stored-file-reader.js';
import { findNode } from '../../src/repo/snapshot/walker.js';
import { MemoryStore } from '../../src/repo/storage/memory.js';
import { CryptoPool } from '../../src/repo/workers/crypto-pool.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes, sha256 } from '../helpers/tree.js';
import { memoryRepo, SMALL_CHUNKS } from './helpers.js';

/** A file entry claiming `size` (what a stat said), whose content is read from disk when pulled. */
function fileEntry(root: string, path: string, size: number): Entry {
  return {
    kind: 'file',
    path: toSafePath(path),
    size,
    mode: 0o644,
    mtimeMs: 1_700_000_000_000,
    content: (async function* () {
      yield await readFile(join(root, path));
    })(),
  };
}

const dirEntry = (path: string): Entry => ({ kind: 'dir', path: toSafePath(path), mode: 0o755, mtimeMs: 1_700_000_000_000 });

test('small files go through worker batches (several batches, duplicates, empty files) and come back byte for byte', async (t) => {
  const root = await tempDir(t);
  const files = new Map<string, Uint8Array>();
  // 150 files of up to 16 KiB (the limit with 16 KiB chunks): more than two batches of 64.
  for (let i = 0; i < 150; i++) files.set(`d${i % 3}/f${i}`, pseudoRandomBytes((i * 997) % (16 * 1024 + 1), 100 + i));
  files.set('d0/same-a', pseudoRandomBytes(5000, 9));
  files.set('d1/same-b', pseudoRandomBytes(5000, 9));
  files.set('d2/empty', new Uint8Array(0));
  for (const d of ['d0', 'd1', 'd2']) await (await import('node:fs/promises')).mkdir(join(root, d), { recursive: true });
  for (const [path, data] of files) await writeFile(join(root, path), data);
  const entries: Entry[] = [];
  for (const d of ['d0', 'd1', 'd2']) {
    entries.push(dirEntry(d));
    for (const path of [...files.keys()].filter((p) => p.startsWith(`${d}/`)).sort()) entries.push(fileEntry(root, path, (files.get(path) as Uint8Array).length));
  }

  const store = new MemoryStore();
  const repo = await memoryRepo(store, { chunker: SMALL_CHUNKS });
  await repo.loadIndex();
  const session = new ContentWriter(repo, { packSize: 256 * 1024, sealers: 2, slots: 4 });
  const pool = new CryptoPool({ setup: { keys: repo.workerKeys }, sealers: 1 });
  try {
    const archiver = new Archiver(repo, session, { now: () => new Date() });
    await archiver.addTree('', root, { mode: 0o755, mtimeMs: 0 }, (async function* () {
      yield* entries;
    })(), { readFrom: root });
    const { snapshot } = await archiver.commit({ time: new Date(), host: 'h', user: 'u', tags: [], program: 'test' });
    assert.equal(snapshot.summary.files, files.size);
    // The duplicate is stored once: new bytes are the distinct contents only.
    const distinct = [...files.values()].reduce((n, d) => n + d.length, 0) - 5000;
    assert.equal(snapshot.summary.newBytes, distinct);
    for (const [path, data] of files) {
      const node = await findNode(repo, snapshot.tree, toSafePath(path));
      assert.equal(node.type, 'file');
      if (node.type !== 'file') continue;
      assert.equal(node.sha256, sha256(data), path);
      const parts: Uint8Array[] = [];
      for await (const p of readSnapshotFile(repo, pool, node, path)) parts.push(p);
      assert.equal(sha256(Buffer.concat(parts)), sha256(data), path);
    }
    assert.deepEqual((await checkRepository(repo)).problems, []);
  } finally {
    await Promise.all([session.close(), pool.close()]);
  }
});

test('a small file that grew past the limit since the walk is stored as a stream, whole', async (t) => {
  const root = await tempDir(t);
  const grown = pseudoRandomBytes(100_000, 3); // listed at 100 bytes, now ~6 chunks of 16 KiB or more
  await writeFile(join(root, 'grown'), grown);
  await writeFile(join(root, 'small'), 'hello');
  const store = new MemoryStore();
  const repo = await memoryRepo(store, { chunker: SMALL_CHUNKS });
  await repo.loadIndex();
  const session = new ContentWriter(repo, { packSize: 256 * 1024, sealers: 1, slots: 4 });
  const pool = new CryptoPool({ setup: { keys: repo.workerKeys }, sealers: 1 });
  try {
    const archiver = new Archiver(repo, session, { now: () => new Date() });
    await archiver.addTree('', root, { mode: 0o755, mtimeMs: 0 }, (async function* () {
      yield fileEntry(root, 'grown', 100);
      yield fileEntry(root, 'small', 5);
    })(), { readFrom: root });
    const { snapshot } = await archiver.commit({ time: new Date(), host: 'h', user: 'u', tags: [], program: 'test' });
    const node = await findNode(repo, snapshot.tree, toSafePath('grown'));
    assert.ok(node.type === 'file' && node.size === grown.length && node.sha256 === sha256(grown));
    assert.ok(node.type === 'file' && (node.content?.length ?? 0) > 1, 'cut into several chunks');
    if (node.type === 'file') {
      const parts: Uint8Array[] = [];
      for await (const p of readSnapshotFile(repo, pool, node, 'grown')) parts.push(p);
      assert.equal(sha256(Buffer.concat(parts)), sha256(grown));
    }
  } finally {
    await Promise.all([session.close(), pool.close()]);
  }
});

test('a small file replaced by a symlink, or gone, since the walk fails the backup with its path; nothing is committed', async (t) => {
  const root = await tempDir(t);
  await writeFile(join(root, 'secret'), 'not to be followed');
  await symlink(join(root, 'secret'), join(root, 'was-a-file'));
  for (const [name, pattern] of [
    ['was-a-file', /cannot read .*was-a-file/],
    ['vanished', /cannot read .*vanished.*ENOENT|cannot read .*vanished.*no such file/],
  ] as const) {
    const store = new MemoryStore();
    const repo = await memoryRepo(store, { chunker: SMALL_CHUNKS });
    await repo.loadIndex();
    const session = new ContentWriter(repo, { packSize: 256 * 1024, sealers: 1, slots: 4 });
    try {
      const archiver = new Archiver(repo, session, { now: () => new Date() });
      await assert.rejects(
        archiver.addTree('', root, { mode: 0o755, mtimeMs: 0 }, (async function* () {
          yield fileEntry(root, name, 20);
        })(), { readFrom: root }),
        (err: Error) => pattern.test(err.message) && (err as { code?: string }).code === 'E_READ',
      );
      await session.abandon();
      let snapshots = 0;
      for await (const _ of store.list('snapshots/')) snapshots += 1;
      assert.equal(snapshots, 0);
    } finally {
      await session.close();
    }
  }
});
