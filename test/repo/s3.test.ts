/**
 * The S3 backend against a real server (Ceph RGW in CI): the store conformance suite, S3 specifics
 * (URL parsing, the conditional-write probe, paged listing, batched deletes), and the CLI end to end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { parseRepoLocation } from '../../src/repo/storage/open.js';
import { parseS3Location } from '../../src/repo/storage/s3.js';
import { runSluice } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { TEST_KDF, TEST_PASSWORD } from './helpers.js';
import { announceSkip, freshStore, removeBucket, s3Env, s3Server, s3Store, testBucket } from './s3-server.js';
import { cutProxy } from './cut-proxy.js';
import { storeConformance } from './store-conformance.js';

test('s3 location: endpoint, bucket and prefix; credentials refused in the URL', () => {
  assert.deepEqual(parseS3Location('s3:http://127.0.0.1:7480/backups/prod/db'), { endpoint: 'http://127.0.0.1:7480', bucket: 'backups', prefix: 'prod/db' });
  assert.deepEqual(parseS3Location('s3:https://s3.example.com/backups'), { endpoint: 'https://s3.example.com', bucket: 'backups', prefix: '' });
  assert.deepEqual(parseS3Location('s3:backups/prod/'), { bucket: 'backups', prefix: 'prod' });
  assert.deepEqual(parseRepoLocation('s3:backups'), { kind: 's3', bucket: 'backups', prefix: '' });
  assert.deepEqual(parseRepoLocation('rel/dir', '/base'), { kind: 'local', path: '/base/rel/dir' });
  assert.throws(() => parseS3Location('s3:http://AKIA:secret@127.0.0.1:7480/b'), /credentials do not belong in the URL/);
  assert.throws(() => parseS3Location('s3:http://127.0.0.1:7480/'), /no bucket/);
  assert.throws(() => parseS3Location('s3:Bad_Bucket/x'), /not a valid bucket name/);
  assert.throws(() => parseS3Location('s3:bucket/../x'), /not allowed/);
  assert.throws(() => parseRepoLocation('ftp://host/x'), /only local directories and s3:/);
});

const server = s3Server();
if (server === undefined) {
  announceSkip('test/repo/s3.test.ts');
  test('s3 backend on a real server', { skip: 'no S3 server configured (S3_ENDPOINT unset)' }, () => undefined);
} else {
  const bucket = testBucket();
  after(() => removeBucket(server, bucket));
  const suite = (title: string, fn: (t: TestContext) => Promise<void>) => test(`s3: ${title}`, fn);
  storeConformance(suite, (t) => freshStore(t, server, bucket));

  test('s3: the server honours If-None-Match: * (the probe at connect saw 412)', async (t) => {
    const store = await freshStore(t, server, bucket);
    assert.equal(store.conditionalWrites, true);
    const names: string[] = [];
    for await (const info of store.list('')) names.push(info.name);
    assert.deepEqual(names, [], 'the probe object is gone');
  });

  test('s3: 20 racing creators of one name: exactly one wins', async (t) => {
    const store = await freshStore(t, server, bucket);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.put('config', Buffer.from(`writer ${i}`))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'E_OBJECT_EXISTS');
  });

  test('s3: listing follows continuation tokens; deleteMany removes in batches', async (t) => {
    const store = await freshStore(t, server, bucket, { listPageSize: 3 });
    const want = Array.from({ length: 11 }, (_, i) => `index/${String(i).padStart(2, '0')}`);
    await Promise.all(want.map((n) => store.put(n, Buffer.from(n))));
    await store.put('snapshots/other', Buffer.from('x'));
    const got: string[] = [];
    for await (const info of store.list('index/')) got.push(info.name);
    assert.deepEqual(got.sort(), want);
    await store.deleteMany([...want.slice(0, 10), 'index/never-existed']);
    const left: string[] = [];
    for await (const info of store.list('')) left.push(info.name);
    assert.deepEqual(left.sort(), ['index/10', 'snapshots/other']);
  });

  test('s3: a server that stops answering mid-upload times out and the put is retried', async (t) => {
    const target = new URL(server.endpoint);
    const proxy = await cutProxy({ host: target.hostname, port: Number(target.port) }, 'upload', 64 * 1024, 1, 'stall');
    t.after(() => proxy.close());
    const warnings: string[] = [];
    const store = s3Store(server, bucket, `stall-${randomBytes(4).toString('hex')}`, { idleTimeoutMs: 1000, onWarning: (m) => warnings.push(m) }, `http://127.0.0.1:${proxy.port}`);
    t.after(() => store.destroy());
    await store.connect(true);
    const data = pseudoRandomBytes(1024 * 1024, 9);
    await store.put('data/ab/stalled', [data.subarray(0, 1000), data.subarray(1000)]);
    assert.equal(proxy.cuts, 1);
    assert.match(warnings.join('\n'), /PutObject of .*data\/ab\/stalled failed .*TimeoutError.*; retry 1 of 5/);
    assert.ok(Buffer.from(await store.get('data/ab/stalled')).equals(data));
  });

  test('s3: a missing bucket fails at open with the bucket name and status', async () => {
    const { s3Store } = await import('./s3-server.js');
    const store = s3Store(server, `sluice-missing-${randomBytes(4).toString('hex')}`, '');
    try {
      await assert.rejects(store.connect(false), (err: Error) => /ListObjectsV2 of bucket sluice-missing-\w+ failed \(HTTP 404\)/.test(err.message));
    } finally {
      store.destroy();
    }
  });

  test('s3: CLI init, snapshot --stdin, snapshots, cat, restore, check --read-data', async (t) => {
    const dir = await tempDir(t);
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${TEST_PASSWORD}\n`);
    const repo = `s3:${server.endpoint}/${bucket}/cli-${randomBytes(4).toString('hex')}`;
    const env = { ...s3Env(server), SLUICE_REPO: repo, SLUICE_PASSWORD_FILE: passwordFile, SLUICE_KDF: TEST_KDF, SLUICE_CACHE_DIR: join(dir, 'cache'), SLUICE_PASSWORD: '' };
    const sluice = async (args: string[], input?: Uint8Array) => {
      const r = await runSluice(args, { env, ...(input === undefined ? {} : { input }) });
      assert.equal(r.status, 0, `sluice ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    const init = await sluice(['init', '--pack-size', '1M']);
    assert.match(init.stderr, new RegExp(`created repository \\w+ at ${repo.replaceAll('/', '\\/')}`));
    assert.doesNotMatch(init.stderr, new RegExp(server.secretAccessKey.slice(0, 12)));
    const data = pseudoRandomBytes(5 * 1024 * 1024, 7);
    await sluice(['snapshot', '--stdin', 'db.sql', '--tag', 'nightly', '--upload-connections', '3'], data);
    const again = await runSluice(['init'], { env });
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /already exists/);
    const list = JSON.parse((await sluice(['snapshots', '--json'])).stdout.toString()) as { tags: string[] }[];
    assert.equal(list.length, 1);
    assert.deepEqual(list[0]?.tags, ['nightly']);
    assert.ok(Buffer.from((await sluice(['cat', 'latest:db.sql'])).stdout).equals(data), 'cat returns the stream');
    const target = join(dir, 'restored');
    await sluice(['restore', 'latest', '--target', target]);
    const { readFile } = await import('node:fs/promises');
    assert.ok((await readFile(join(target, 'db.sql'))).equals(data), 'restore writes the stream');
    const check = await sluice(['check', '--read-data']);
    assert.match(check.stderr, /no errors were found/);
  });
}
