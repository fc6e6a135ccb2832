import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { FaultyStore, InjectedFault } from '../../src/repo/storage/faulty.js';
import { LocalDirStore } from '../../src/repo/storage/local.js';
import { ObjectExistsError } from '../../src/repo/storage/object-store.js';
import { MemoryStore } from '../../src/repo/storage/memory.js';
import { tempDir } from '../helpers/tmp.js';
import { storeConformance } from './store-conformance.js';

const suite = (name: string) => (title: string, fn: (t: TestContext) => Promise<void>) => test(`${name}: ${title}`, fn);

storeConformance(suite('memory'), async () => new MemoryStore());
storeConformance(suite('local'), async (t) => {
  const store = new LocalDirStore(join(await tempDir(t), 'repo'));
  await store.create();
  return store;
});
storeConformance(suite('faulty without faults'), async () => new FaultyStore(new MemoryStore()));

test('local: a put leaves no temporary file behind, and stale temporaries are removed', async (t) => {
  const root = join(await tempDir(t), 'repo');
  const store = new LocalDirStore(root);
  await store.create();
  await store.put('index/a', Buffer.from('x'));
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
  await writeFile(join(root, 'tmp', 'left-by-a-killed-writer'), 'partial');
  assert.equal(await store.removeStaleTemporaries(Date.now(), 60_000), 0);
  assert.equal(await store.removeStaleTemporaries(Date.now() + 3_600_000, 60_000), 1);
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('local: a partly written object is never visible (temporary files are not listed)', async (t) => {
  const root = join(await tempDir(t), 'repo');
  const store = new LocalDirStore(root);
  await store.create();
  await writeFile(join(root, 'tmp', 'index_x.123'), 'half');
  const names: string[] = [];
  for await (const info of store.list('')) names.push(info.name);
  assert.deepEqual(names, []);
});

test('faulty: fails the Nth put, and with sticky every later write too', async () => {
  const inner = new MemoryStore();
  const store = new FaultyStore(inner, { failPut: 2, sticky: true });
  await store.put('index/a', Buffer.from('1'));
  await assert.rejects(store.put('index/b', Buffer.from('2')), InjectedFault);
  await assert.rejects(store.put('index/c', Buffer.from('3')), InjectedFault);
  await assert.rejects(store.delete('index/a'), InjectedFault);
  assert.equal(await inner.stat('index/b'), undefined);
  assert.equal(store.puts, 3);
});

test('faulty: a put that fails after writing leaves the object (the writer died before hearing back)', async () => {
  const inner = new MemoryStore();
  const store = new FaultyStore(inner, { failPut: 1, failAfterWrite: true });
  await assert.rejects(store.put('index/a', Buffer.from('1')), InjectedFault);
  assert.equal((await inner.stat('index/a'))?.size, 1);
});

test('faulty: short reads and failing reads', async () => {
  const store = new FaultyStore(new MemoryStore(), { shortRead: (n) => n.startsWith('data/'), failGet: (n) => n === 'index/x' });
  await store.put('data/00/00', Buffer.from('abcd'));
  await store.put('index/x', Buffer.from('abcd'));
  assert.equal((await store.get('data/00/00', { offset: 0, length: 4 })).length, 3);
  await assert.rejects(store.get('index/x'), InjectedFault);
});

test('local: a draft is invisible until committed, then readable whole; abort and a taken name leave nothing', async (t) => {
  const root = join(await tempDir(t), 'repo');
  const store = new LocalDirStore(root);
  await store.create();
  const draft = await store.draft();
  await draft.write([Buffer.from('ab'), Buffer.from('cd')]);
  await draft.write([Buffer.from('ef')]);
  assert.equal(await store.stat('data/p1'), undefined);
  await draft.commit('data/p1');
  assert.equal(Buffer.from(await store.get('data/p1')).toString(), 'abcdef');
  const dropped = await store.draft();
  await dropped.write([Buffer.from('zz')]);
  await dropped.abort();
  const again = await store.draft();
  await again.write([Buffer.from('other')]);
  await assert.rejects(again.commit('data/p1'), ObjectExistsError);
  assert.equal(Buffer.from(await store.get('data/p1')).toString(), 'abcdef');
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});
