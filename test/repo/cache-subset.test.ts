/** The local cache keeps second backups from reading the repository; check subsets cover every pack once. */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { toSafePath } from '../../src/entry.js';
import { ContentWriter } from '../../src/repo/content/content-writer.js';
import { Repository } from '../../src/repo/repository.js';
import { Archiver } from '../../src/repo/snapshot/archiver.js';
import { listSnapshots } from '../../src/repo/snapshot/snapshots.js';
import { MemoryStore } from '../../src/repo/storage/memory.js';
import type { ByteRange, ObjectInfo, ObjectStore } from '../../src/repo/storage/object-store.js';
import { ok } from '../helpers/cli.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { tempDir } from '../helpers/tmp.js';
import { client, json, memoryRepo, TEST_PASSWORD, testRepo } from './helpers.js';

/** Counts reads per object-name prefix. */
class CountingStore implements ObjectStore {
  readonly location = 'counting';
  readonly gets = new Map<string, number>();
  constructor(readonly inner: ObjectStore) {}
  put(name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    return this.inner.put(name, data);
  }
  get(name: string, range?: ByteRange): Promise<Uint8Array> {
    const prefix = name.slice(0, name.indexOf('/') + 1) || name;
    this.gets.set(prefix, (this.gets.get(prefix) ?? 0) + 1);
    return this.inner.get(name, range);
  }
  stat(name: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(name);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  delete(name: string): Promise<void> {
    return this.inner.delete(name);
  }
}

async function backup(store: ObjectStore, cacheDir: string, data: Uint8Array): Promise<void> {
  const repo = await Repository.open(store, TEST_PASSWORD, { ...client(), cacheDir });
  await repo.loadIndex();
  await listSnapshots(repo);
  const session = new ContentWriter(repo, { sealers: 1 });
  try {
    const archiver = new Archiver(repo, session, { now: () => new Date() });
    await archiver.addStream(toSafePath('db.sql'), (async function* () { yield data; })(), { mode: 0o600, mtimeMs: 0 }, { kind: 'stdin' });
    await archiver.commit({ time: new Date(), host: 'h', user: 'u', tags: [], program: 't' });
  } finally {
    await session.close();
  }
}

test('with a warm cache, a second backup of unchanged data reads no index, snapshot or pack from the repository', async (t) => {
  const inner = new MemoryStore();
  await memoryRepo(inner);
  const cacheDir = await tempDir(t);
  const data = pseudoRandomBytes(2 * 1024 * 1024, 3);
  await backup(inner, cacheDir, data);
  const counting = new CountingStore(inner);
  await backup(counting, cacheDir, data);
  assert.equal(counting.gets.get('index/') ?? 0, 0, 'index objects came from the cache');
  assert.equal(counting.gets.get('snapshots/') ?? 0, 0, 'snapshot objects came from the cache');
  assert.equal(counting.gets.get('data/') ?? 0, 0, 'no pack was read');
  // Without the cache the same backup has to read them.
  const cold = new CountingStore(inner);
  await backup(cold, await tempDir(t), data);
  assert.ok((cold.gets.get('index/') ?? 0) > 0 && (cold.gets.get('snapshots/') ?? 0) > 0);
});

test('check --read-data-subset n/t: the t slices read every pack once; a damaged pack is found by its slice only', async (t) => {
  const r = await testRepo(t);
  for (let i = 0; i < 4; i++) ok(await r.run(['snapshot', '--stdin', `s${i}`, '--pack-size', '64K'], { input: pseudoRandomBytes(1200 * 1024, i) }));
  const reports = [];
  for (const slice of ['1/3', '2/3', '3/3']) reports.push(json<{ packsRead: number; packs: number }>(ok(await r.run(['check', `--read-data-subset=${slice}`, '--json']))));
  const total = reports[0]?.packs as number;
  assert.ok(total >= 4);
  assert.equal(reports.reduce((n, x) => n + x.packsRead, 0), total);
  const some = json<{ packsRead: number }>(ok(await r.run(['check', '--read-data-subset=50%', '--json'])));
  assert.equal(some.packsRead, Math.round(total / 2));
  // Damage one data pack (the largest; tree packs are read by every check): exactly one slice reports it.
  const dir = join(r.repo, 'data');
  let target = '';
  let size = 0;
  for (const sub of await readdir(dir)) {
    for (const name of await readdir(join(dir, sub))) {
      const n = (await readFile(join(dir, sub, name))).length;
      if (n > size) [target, size] = [join(dir, sub, name), n];
    }
  }
  const bytes = await readFile(target);
  bytes[10] = (bytes[10] as number) ^ 1;
  await writeFile(target, bytes);
  const statuses = [];
  for (const slice of ['1/3', '2/3', '3/3']) statuses.push((await r.run(['check', `--read-data-subset=${slice}`])).status);
  assert.deepEqual(statuses.filter((s) => s === 4).length, 1, String(statuses));
  assert.equal(statuses.filter((s) => s === 0).length, 2);
});

test('forget --prune removes snapshots and frees their data in one command', async (t) => {
  const r = await testRepo(t);
  for (let i = 0; i < 3; i++) ok(await r.run(['snapshot', '--stdin', 'db.sql', '--time', `2024-01-0${i + 1}T00:00:00Z`], { input: pseudoRandomBytes(700 * 1024, 50 + i) }));
  const res = ok(await r.run(['forget', '--keep-last', '1', '--prune']));
  assert.match(res.stderr, /removed 2 snapshot/);
  assert.match(res.stderr, /deleted \d+ unused/);
  assert.equal(json<unknown[]>(ok(await r.run(['snapshots', '--json']))).length, 1);
  const report = json<{ bytesBefore: number; packsDeleted: number; packsRepacked: number }>(ok(await r.run(['prune', '--json'])));
  assert.equal(report.packsDeleted, 0);
  assert.ok(report.bytesBefore < 1024 * 1024);
  ok(await r.run(['check', '--read-data']));
});
