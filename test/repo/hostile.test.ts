/** A repository whose objects were tampered with: every reader refuses, names the object, writes nothing outside. */
import assert from 'node:assert/strict';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ContentWriter } from '../../src/repo/content/content-writer.js';
import { contentHash } from '../../src/repo/crypto/blob-id.js';
import { Repository } from '../../src/repo/repository.js';
import { writeSnapshot } from '../../src/repo/snapshot/snapshots.js';
import { encodeTree } from '../../src/repo/snapshot/tree.js';
import { LocalDirStore } from '../../src/repo/storage/local.js';
import { ok } from '../helpers/cli.js';
import { describeTree, pseudoRandomBytes } from '../helpers/tree.js';
import { client, TEST_PASSWORD, testRepo } from './helpers.js';

test('a tree naming ".." (written with the real key) is refused by ls and restore; nothing escapes', async (t) => {
  const r = await testRepo(t);
  const repo = await Repository.open(new LocalDirStore(r.repo), TEST_PASSWORD, client());
  await repo.loadIndex();
  const session = new ContentWriter(repo, { sealers: 1 });
  try {
    const empty = await session.saveTree(encodeTree([]));
    const evil = await session.saveTree(
      Buffer.from(JSON.stringify({ nodes: [{ name: '..', type: 'dir', mode: 0o755, mtime: 0, subtree: empty }, { name: 'ok', type: 'symlink', mode: 0o777, mtime: 0, target: '/etc' }] })),
    );
    await session.flush();
    await writeSnapshot(repo, {
      time: new Date().toISOString(), host: 'h', user: 'u', tags: [], paths: ['/x'], streams: [], tree: evil, program: 'evil',
      summary: { files: 0, dirs: 0, symlinks: 0, bytes: 0, newBytes: 0, storedBytes: 0, durationMs: 0 },
    });
  } finally {
    await session.close();
  }
  const target = join(r.dir, 'target', 'inner');
  const res = await r.run(['restore', 'latest', '--target', target]);
  assert.notEqual(res.status, 0);
  assert.match(res.stderr, /tree blob is invalid: node 0: invalid name "\.\."/);
  assert.match(res.stderr, /tree [0-9a-f]{64}/);
  assert.deepEqual(await describeTree(join(r.dir, 'target')), [{ path: 'inner', kind: 'dir' }]);
  const ls = await r.run(['ls', 'latest']);
  assert.notEqual(ls.status, 0);
  const check = await r.run(['check']);
  assert.equal(check.status, 1);
  assert.match(check.stderr, /invalid name/);
});

test('a truncated pack and a forged index object are reported with their names', async (t) => {
  const r = await testRepo(t);
  ok(await r.run(['snapshot', '--stdin', 'db.sql'], { input: pseudoRandomBytes(2 * 1024 * 1024, 4) }));
  const dataDir = join(r.repo, 'data');
  let biggest = '';
  let size = 0;
  for (const dir of await readdir(dataDir)) {
    for (const p of await readdir(join(dataDir, dir))) {
      const n = (await readFile(join(dataDir, dir, p))).length;
      if (n > size) [biggest, size] = [join(dataDir, dir, p), n];
    }
  }
  const half = Math.floor(size / 2);
  await truncate(biggest, half);
  const name = biggest.slice(biggest.lastIndexOf('/') + 1);
  const check = await r.run(['check']);
  assert.equal(check.status, 4);
  assert.match(check.stderr, new RegExp(`pack ${name} is ${half} bytes`));
  const cat = await r.run(['cat', 'latest:db.sql']);
  assert.notEqual(cat.status, 0);
  assert.match(cat.stderr, new RegExp(`beyond the end.*data/${name.slice(0, 2)}/${name}`));

  const forged = pseudoRandomBytes(500, 9);
  await writeFile(join(r.repo, 'index', contentHash(forged)), forged);
  const check2 = await r.run(['check']);
  assert.equal(check2.status, 4);
  assert.match(check2.stderr, new RegExp(`index/${contentHash(forged)}.*failed authentication`));
  const ls = await r.run(['ls', 'latest']);
  assert.equal(ls.status, 4, 'readers refuse a forged index object');
});

test('a tampered snapshot object fails its name check before anything is decrypted', async (t) => {
  const r = await testRepo(t);
  ok(await r.run(['snapshot', '--stdin', 'a'], { input: 'x' }));
  const [name] = await readdir(join(r.repo, 'snapshots'));
  const path = join(r.repo, 'snapshots', name as string);
  const bytes = await readFile(path);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
  await writeFile(path, bytes);
  const res = await r.run(['snapshots', '--no-cache']);
  assert.equal(res.status, 4);
  assert.match(res.stderr, new RegExp(`does not match its name.*snapshots/${name}`));
});
