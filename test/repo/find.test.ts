/** `find` and `history`: the library queries (with a store that counts reads) and the commands. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { findEntries } from '../../src/repo/query/find.js';
import { parseTimeBound } from '../../src/repo/query/filters.js';
import { pathHistory } from '../../src/repo/query/history.js';
import { Repository } from '../../src/repo/repository.js';
import { LocalDirStore } from '../../src/repo/storage/local.js';
import type { ByteRange, ObjectInfo, ObjectStore } from '../../src/repo/storage/object-store.js';
import { openObjectStore } from '../../src/repo/storage/open.js';
import { globMatcher } from '../../src/repo/snapshot/glob.js';
import { ok } from '../helpers/cli.js';
import { client, TEST_PASSWORD } from './helpers.js';
import { queryFixture } from './query-fixture.js';

/** Counts every read of an object (whole or ranged). */
class CountingStore implements ObjectStore {
  readonly location = 'counting';
  gets: string[] = [];
  constructor(readonly inner: ObjectStore) {}
  put(name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    return this.inner.put(name, data);
  }
  get(name: string, range?: ByteRange): Promise<Uint8Array> {
    this.gets.push(name);
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

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('globs match case-insensitively only when asked', () => {
  assert.equal(globMatcher(['*.txt'])('notes/README.TXT'), false);
  assert.equal(globMatcher(['*.txt'], { ignoreCase: true })('notes/README.TXT'), true);
  assert.equal(globMatcher(['backup/**/*.ibd'])('backup/shop/orders.ibd'), true);
  assert.equal(globMatcher(['backup/*.ibd'])('backup/shop/orders.ibd'), false);
});

test('time bounds: ages relative to now, ISO dates, and a clear error otherwise', () => {
  const now = new Date('2026-12-02T00:00:00Z');
  assert.equal(parseTimeBound('7d', '--newer', now).toISOString(), '2026-11-25T00:00:00.000Z');
  assert.equal(parseTimeBound('2026-11-10', '--newer', now).toISOString(), '2026-11-10T00:00:00.000Z');
  assert.throws(() => parseTimeBound('last week', '--newer', now), /--newer: "last week" is neither/);
});

test('find across snapshots, newest first, with every filter; a second query reads nothing from the repository', async (t) => {
  const f = await queryFixture(t);
  const [first, second, third] = f.ids;
  const store = new CountingStore(new LocalDirStore(f.r.repo));
  const repo = await Repository.open(store, TEST_PASSWORD, { ...client(), cacheDir: join(f.r.dir, 'lib-cache') });
  const rel = f.src.slice(1);

  const ibd = await collect(findEntries(repo, { patterns: ['*.ibd'] }));
  assert.deepEqual(
    ibd.map((m) => [m.snapshot.id, m.path]),
    [
      [second, `/${rel}/backup/shop/items.ibd`],
      [second, `/${rel}/backup/shop/orders.ibd`],
      [first, `/${rel}/backup/shop/orders.ibd`],
    ],
  );
  assert.equal(ibd[0]?.node.type === 'file' && ibd[0].node.size, 32 * 1024);

  // The same query again: snapshots, index and trees all come from the cache.
  store.gets = [];
  assert.equal((await collect(findEntries(repo, { patterns: ['*.ibd'] }))).length, 3);
  const again = await Repository.open(store, TEST_PASSWORD, { ...client(), cacheDir: join(f.r.dir, 'lib-cache') });
  store.gets = [];
  assert.equal((await collect(findEntries(again, { patterns: ['**'] }))).length > 10, true);
  assert.deepEqual(store.gets, [], 'a query after the first reads no object from the repository');

  const txt = await collect(findEntries(repo, { patterns: ['*.txt'], ignoreCase: true, snapshots: [first.slice(0, 6)] }));
  assert.deepEqual(txt.map((m) => m.path), [`/${rel}/notes/README.TXT`]);
  assert.equal((await collect(findEntries(repo, { patterns: ['*.txt'] }))).length, 0);

  const streams = await collect(findEntries(repo, { patterns: ['db*', 'dump*'], kinds: ['stream'] }));
  assert.deepEqual(streams.map((m) => [m.snapshot.id, m.path, m.kind]), [[third, '/dump.sql', 'stream']]);
  const sql = await collect(findEntries(repo, { patterns: ['*.sql'], host: 'db1' }));
  assert.deepEqual(new Set(sql.map((m) => m.snapshot.id)), new Set([first, second]));
  assert.ok(sql.every((m) => m.kind === 'file'));

  const newer = await collect(findEntries(repo, { patterns: ['nginx.conf'], newer: new Date('2026-11-10T00:00:00Z') }));
  assert.deepEqual(newer.map((m) => m.snapshot.id), [second]);
  const older = await collect(findEntries(repo, { patterns: ['nginx.conf'], older: new Date('2026-11-10T00:00:00Z') }));
  assert.deepEqual(older.map((m) => m.snapshot.id), [first]);
  assert.deepEqual((await collect(findEntries(repo, { tags: ['weekly'] }))).map((m) => m.path), ['/dump.sql']);

  const big = await collect(findEntries(repo, { minSize: 100 * 1024, snapshots: [second] }));
  assert.deepEqual(big.map((m) => m.path), [`/${rel}/backup/ibdata1`]);
  const small = await collect(findEntries(repo, { maxSize: 100, kinds: ['file'], snapshots: [second] }));
  assert.ok(small.length > 0 && small.every((m) => m.node.type === 'file' && m.node.size <= 100));

  const under = await collect(findEntries(repo, { path: `/${rel}/etc`, snapshots: [second] }));
  assert.deepEqual(under.map((m) => m.path), [`/${rel}/etc`, `/${rel}/etc/nginx`, `/${rel}/etc/nginx/nginx.conf`, `/${rel}/etc/schema.sql`]);
  const dirs = await collect(findEntries(repo, { kinds: ['dir'], path: `/${rel}/backup`, snapshots: [second] }));
  assert.deepEqual(dirs.map((m) => m.path), [`/${rel}/backup`, `/${rel}/backup/shop`]);
  assert.equal((await collect(findEntries(repo, { limit: 2 }))).length, 2);
  assert.equal((await collect(findEntries(repo, { path: '/no/such/dir' }))).length, 0);
});

test('history lists every version of a path, newest first, marking what changed', async (t) => {
  const f = await queryFixture(t);
  const [first, second] = f.ids;
  const store = await openObjectStore(f.r.repo);
  const repo = await Repository.open(store, TEST_PASSWORD, client());
  const conf = `${f.src}/etc/nginx/nginx.conf`;
  const versions = await collect(pathHistory(repo, conf));
  assert.deepEqual(versions.map((v) => [v.snapshot.id, v.change]), [[second, 'changed'], [first, 'added']]);
  assert.equal(versions[0]?.node.type === 'file' && versions[0].node.size, f.files['etc/nginx/nginx.conf']?.length);
  const ibdata = await collect(pathHistory(repo, `${f.src}/backup/ibdata1`));
  assert.deepEqual(ibdata.map((v) => v.change), ['unchanged', 'added']);
  assert.deepEqual((await collect(pathHistory(repo, `${f.src}/backup/ibdata1`, { changesOnly: true }))).map((v) => v.snapshot.id), [first]);
  assert.deepEqual((await collect(pathHistory(repo, `${f.src}/backup/shop/items.ibd`))).map((v) => [v.snapshot.id, v.change]), [[second, 'added']]);
  assert.deepEqual(await collect(pathHistory(repo, '/nowhere')), []);
});

test('the find and history commands: text and NDJSON, usage errors', async (t) => {
  const f = await queryFixture(t);
  const [first, second, third] = f.ids;
  const lines = (b: Buffer) => b.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const found = lines(ok(await f.r.run(['find', '*.ibd', '--json'])).stdout);
  assert.deepEqual(found.map((m) => [m.snapshot, m.name, m.kind, m.size]), [
    [second, 'items.ibd', 'file', 32 * 1024],
    [second, 'orders.ibd', 'file', 64 * 1024],
    [first, 'orders.ibd', 'file', 64 * 1024],
  ]);
  const text = ok(await f.r.run(['find', '--stream', 'db*', 'dump*']));
  assert.match(text.stdout.toString(), new RegExp(`^${third.slice(0, 8)}  2026-12-01 02:00:00  stream +\\d+  /dump.sql\n$`));
  assert.match(text.stderr, /1 match\n/);
  const sinceNov10 = lines(ok(await f.r.run(['find', 'nginx.conf', '--newer', '2026-11-10', '--json'])).stdout);
  assert.deepEqual(sinceNov10.map((m) => m.snapshot), [second]);
  const history = lines(ok(await f.r.run(['history', `${f.src}/etc/nginx/nginx.conf`, '--json'])).stdout);
  assert.deepEqual(history.map((v) => [v.snapshot, v.change]), [[second, 'changed'], [first, 'added']]);
  const historyText = ok(await f.r.run(['history', `${f.src}/etc/nginx/nginx.conf`])).stdout.toString();
  assert.match(historyText, /M file +56 {2}\/.*nginx.conf\n.*\+ file +20 {2}\/.*nginx.conf\n$/);
  const bad = await f.r.run(['find', '--newer', 'yesterday']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--newer: "yesterday" is neither/);
  const badKind = await f.r.run(['find', '--kind', 'socket']);
  assert.equal(badKind.status, 2);
});
