/**
 * The contract every ObjectStore must meet (see src/repo/storage/object-store.ts). Each backend's test
 * calls `storeConformance` with a factory for empty stores.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { ObjectExistsError, ObjectNotFoundError, type ObjectStore } from '../../src/repo/storage/object-store.js';
import { pseudoRandomBytes } from '../helpers/tree.js';

type Factory = (t: TestContext) => Promise<ObjectStore>;

async function names(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix)) out.push(info.name);
  return out.sort();
}

export function storeConformance(test: (name: string, fn: (t: TestContext) => Promise<void>) => unknown, make: Factory): void {
  test('put then get returns the same bytes, whole and by range', async (t) => {
    const store = await make(t);
    const data = pseudoRandomBytes(100_000, 3);
    await store.put('data/ab/abcdef', data);
    assert.deepEqual(Buffer.from(await store.get('data/ab/abcdef')), data);
    assert.deepEqual(Buffer.from(await store.get('data/ab/abcdef', { offset: 1000, length: 5000 })), data.subarray(1000, 6000));
    assert.deepEqual(Buffer.from(await store.get('data/ab/abcdef', { offset: 100_000, length: 0 })), Buffer.alloc(0));
  });

  test('put of several parts stores their concatenation', async (t) => {
    const store = await make(t);
    await store.put('index/x', [Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')]);
    assert.equal(Buffer.from(await store.get('index/x')).toString(), 'abcde');
    assert.equal((await store.stat('index/x'))?.size, 5);
  });

  test('objects are written once: a second put of a name fails and keeps the first', async (t) => {
    const store = await make(t);
    await store.put('keys/k', Buffer.from('first'));
    await assert.rejects(store.put('keys/k', Buffer.from('second')), ObjectExistsError);
    assert.equal(Buffer.from(await store.get('keys/k')).toString(), 'first');
  });

  test('a range beyond the end is an error, never a short read', async (t) => {
    const store = await make(t);
    await store.put('snapshots/s', Buffer.from('0123456789'));
    await assert.rejects(store.get('snapshots/s', { offset: 5, length: 6 }), /beyond the end/);
    await assert.rejects(store.get('snapshots/s', { offset: -1, length: 2 }), /beyond the end/);
  });

  test('missing objects: get fails with ObjectNotFoundError, stat is undefined, delete is quiet', async (t) => {
    const store = await make(t);
    await assert.rejects(store.get('index/none'), ObjectNotFoundError);
    assert.equal(await store.stat('index/none'), undefined);
    await store.delete('index/none');
  });

  test('list yields exactly the names under a prefix, nested ones included', async (t) => {
    const store = await make(t);
    for (const name of ['data/00/00aa', 'data/ff/ffbb', 'index/i1', 'snapshots/s1', 'locks/l1']) await store.put(name, Buffer.from(name));
    assert.deepEqual(await names(store, 'data/'), ['data/00/00aa', 'data/ff/ffbb']);
    assert.deepEqual(await names(store, 'index/'), ['index/i1']);
    assert.deepEqual(await names(store, 'nothing/'), []);
    const sizes = [];
    for await (const info of store.list('data/')) sizes.push(info.size);
    assert.deepEqual(sizes.sort(), [12, 12]);
  });

  test('delete removes an object from get and list', async (t) => {
    const store = await make(t);
    await store.put('locks/a', Buffer.from('a'));
    await store.delete('locks/a');
    assert.deepEqual(await names(store, 'locks/'), []);
    await assert.rejects(store.get('locks/a'), ObjectNotFoundError);
    await store.put('locks/a', Buffer.from('again'));
    assert.equal(Buffer.from(await store.get('locks/a')).toString(), 'again');
  });

  test('names that could escape or match patterns are refused', async (t) => {
    const store = await make(t);
    for (const bad of ['../x', 'a/../b', '/abs', 'a//b', 'a/', '', 'a b', 'a/*', '.']) {
      await assert.rejects(store.put(bad, Buffer.from('x')), /invalid object name/, bad);
    }
  });

  test('concurrent puts of different names all land', async (t) => {
    const store = await make(t);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`data/0${i % 10}/obj${i}`, pseudoRandomBytes(1000 + i, i))));
    const listed = await names(store, 'data/');
    assert.equal(listed.length, 20);
    for (let i = 0; i < 20; i++) assert.deepEqual(Buffer.from(await store.get(`data/0${i % 10}/obj${i}`)), pseudoRandomBytes(1000 + i, i));
  });
}
