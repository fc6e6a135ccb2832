/**
 * `find`, `history` and `sluice ui` on an S3 repository (Ceph RGW in CI; skipped without S3_ENDPOINT unless
 * SLUICE_REQUIRE_S3=1). The repository is reached through a proxy that records every request, so the test
 * can say which objects a second `find` fetched: with the cache warm, none but the config and key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ok, runSluice, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeTree, pseudoRandomBytes, sha256 } from '../helpers/tree.js';
import { TEST_KDF, TEST_PASSWORD, type TestRepo } from '../repo/helpers.js';
import { DUMP_SQL } from '../repo/query-fixture.js';
import { announceSkip, removeBucket, s3Env, s3Server, testBucket } from '../repo/s3-server.js';
import { requestLog } from './request-log.js';
import { startUi } from './ui-server.js';

const server = s3Server();
if (server === undefined) {
  announceSkip('test/ui/s3.test.ts');
  test('find, history and ui on S3', { skip: 'no S3 server configured (S3_ENDPOINT unset)' }, () => undefined);
} else {
  const bucket = testBucket();
  after(() => removeBucket(server, bucket));

  test('s3: find and history through the CLI, a second find reads no object, sluice ui browses, previews and downloads', { timeout: 240_000 }, async (t) => {
    const log = await requestLog(server.endpoint);
    t.after(() => log.close());
    const dir = await tempDir(t, 'sluice-ui-s3-');
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${TEST_PASSWORD}\n`);
    const prefix = `ui-${randomBytes(4).toString('hex')}`;
    const repo = `s3:http://127.0.0.1:${log.port}/${bucket}/${prefix}`;
    const env = { ...s3Env(server), SLUICE_REPO: repo, SLUICE_PASSWORD_FILE: passwordFile, SLUICE_KDF: TEST_KDF, SLUICE_CACHE_DIR: join(dir, 'cache'), SLUICE_PASSWORD: '' };
    const r: TestRepo = {
      dir,
      repo,
      passwordFile,
      env,
      run: (args, opts = {}) => runSluice(args, { ...opts, env: { ...env, ...opts.env } }),
      sh: (script, opts = {}) => sh(script, { ...opts, env: { ...env, ...opts.env } }),
    };
    const lines = (b: Buffer) => b.toString('utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const snap = async (args: string[], input?: string) => (JSON.parse(ok(await r.run(['snapshot', ...args, '--json', '--no-progress'], input === undefined ? {} : { input })).stdout.toString()) as { id: string }).id;

    ok(await r.run(['init', '--pack-size', '1M']));
    const src = join(dir, 'src');
    const blob = pseudoRandomBytes(700 * 1024, 11);
    await makeTree(src, { 'etc/nginx.conf': 'worker_processes 1;\n', 'etc/schema.sql': DUMP_SQL, 'data/blob.bin': blob });
    const first = await snap([src, '--host', 'db1', '--time', '2026-11-01T02:00:00Z']);
    await writeFile(join(src, 'etc/nginx.conf'), 'worker_processes 4;\n');
    const second = await snap([src, '--host', 'db1', '--time', '2026-11-15T02:00:00Z']);
    const third = await snap(['--stdin', 'dump.sql', '--host', 'web1', '--tag', 'weekly', '--time', '2026-12-01T02:00:00Z'], DUMP_SQL);

    // find and history through the CLI, as NDJSON.
    const conf = lines(ok(await r.run(['find', '*.conf', '--json'])).stdout);
    assert.deepEqual(conf.map((m) => [m.snapshot, m.path, m.size]), [
      [second, `${src}/etc/nginx.conf`, 20],
      [first, `${src}/etc/nginx.conf`, 20],
    ]);
    const streams = lines(ok(await r.run(['find', '--stream', 'dump*', '--json'])).stdout);
    assert.deepEqual(streams.map((m) => [m.snapshot, m.path, m.kind, m.size]), [[third, '/dump.sql', 'stream', DUMP_SQL.length]]);
    const history = lines(ok(await r.run(['history', `${src}/etc/nginx.conf`, '--json'])).stdout);
    assert.deepEqual(history.map((v) => [v.snapshot, v.change]), [[second, 'changed'], [first, 'added']]);
    assert.deepEqual(lines(ok(await r.run(['history', `${src}/data/blob.bin`, '--json'])).stdout).map((v) => v.change), ['unchanged', 'added']);

    // With the cache warm, a query over every entry of every snapshot fetches the config and key, nothing else.
    const root = `/${bucket}/${prefix}/`;
    log.requests.length = 0;
    const everything = lines(ok(await r.run(['find', '**', '--json'])).stdout);
    const files = (id: string) => everything.filter((m) => m.snapshot === id && m.kind === 'file').map((m) => m.path);
    assert.deepEqual(files(second), [`${src}/data/blob.bin`, `${src}/etc/nginx.conf`, `${src}/etc/schema.sql`]);
    assert.deepEqual(files(first), files(second));
    const fetched = log.objectGets(root);
    assert.ok(fetched.includes('config'), `the proxy saw the command's requests: ${JSON.stringify(log.requests)}`);
    assert.deepEqual(fetched.filter((name) => name !== 'config' && !name.startsWith('keys/')), [], 'no snapshot, index, tree or pack object read');
    // A cold cache does read them: the count above could have failed.
    log.requests.length = 0;
    const coldFound = lines(ok(await r.run(['find', '**', '--json'], { env: { SLUICE_CACHE_DIR: join(dir, 'cold-cache') } })).stdout);
    assert.deepEqual(coldFound, everything);
    const cold = log.objectGets(root);
    assert.ok(cold.some((n) => n.startsWith('snapshots/')) && cold.some((n) => n.startsWith('index/')) && cold.some((n) => n.startsWith('data/')), JSON.stringify(cold));

    // sluice ui on the S3 repository: the API with the token.
    const ui = await startUi(t, r, ['--repo', repo]);
    const auth = { Authorization: `Bearer ${ui.token}` };
    const get = async (path: string) => {
      const res = await fetch(`${ui.base}${path}`, { headers: auth });
      assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
      return res;
    };
    assert.equal((await fetch(`${ui.base}/api/snapshots`)).status, 401);
    const snaps = (await (await get('/api/snapshots')).json()) as { id: string; host: string }[];
    assert.deepEqual(snaps.map((s) => s.id), [third, second, first]);
    const repoInfo = (await (await get('/api/repo')).json()) as { location: string };
    assert.match(repoInfo.location, /^s3:/);
    const tree = (await (await get(`/api/tree?snapshot=${second}&path=${encodeURIComponent(`${src}/etc`)}`)).json()) as { entries: { name: string; size: number }[] };
    assert.deepEqual(tree.entries.map((e) => [e.name, e.size]), [['nginx.conf', 20], ['schema.sql', DUMP_SQL.length]]);
    const preview = (await (await get(`/api/preview?snapshot=${second}&path=${encodeURIComponent(`${src}/etc/schema.sql`)}`)).json()) as { text: boolean; data: string };
    assert.equal(preview.text, true);
    assert.equal(preview.data, DUMP_SQL);
    const download = await get(`/api/download?snapshot=${second}&path=${encodeURIComponent(`${src}/data/blob.bin`)}`);
    assert.equal(download.headers.get('content-length'), String(blob.length));
    assert.equal(sha256(Buffer.from(await download.arrayBuffer())), sha256(blob), 'the downloaded file is the original');
    const dump = await get(`/api/download?snapshot=${third}&path=dump.sql`);
    assert.equal(sha256(Buffer.from(await dump.arrayBuffer())), sha256(DUMP_SQL), 'the downloaded stream is the original');
    const found = lines(Buffer.from(await (await get('/api/find?q=*.sql')).arrayBuffer()));
    assert.deepEqual(found.map((m) => [m.snapshot, m.path]), [
      [third, '/dump.sql'],
      [second, `${src}/etc/schema.sql`],
      [first, `${src}/etc/schema.sql`],
    ]);
    const versions = lines(Buffer.from(await (await get(`/api/history?path=${encodeURIComponent(`${src}/etc/nginx.conf`)}`)).arrayBuffer()));
    assert.deepEqual(versions.map((v) => [v.snapshot, v.change]), [[second, 'changed'], [first, 'added']]);
    assert.equal(await ui.stop(), 130);
  });
}
