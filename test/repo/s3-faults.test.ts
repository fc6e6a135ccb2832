/**
 * Faults between sluice and a real S3 server: wrong credentials fail at once with bucket and status; a
 * proxy that cuts connections mid-upload or mid-download is survived by retries, and when the faults never
 * stop the backup fails clearly and leaves no snapshot (and a repository that passes check).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, type TestContext, test } from 'node:test';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { runSluice, SLUICE_JS } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { cutProxy } from './cut-proxy.js';
import { TEST_KDF, TEST_PASSWORD } from './helpers.js';
import { announceSkip, removeBucket, s3Env, s3Server, s3Store, testBucket } from './s3-server.js';

const server = s3Server();
if (server === undefined) {
  announceSkip('test/repo/s3-faults.test.ts');
  test('s3 faults on a real server', { skip: 'no S3 server configured (S3_ENDPOINT unset)' }, () => undefined);
} else {
  const bucket = testBucket();
  after(() => removeBucket(server, bucket));
  const target = new URL(server.endpoint);

  /** A fresh repository on the server; `run` talks to it directly or through another endpoint. */
  async function s3Repo(t: TestContext) {
    const dir = await tempDir(t);
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${TEST_PASSWORD}\n`);
    const path = `${bucket}/f-${randomBytes(4).toString('hex')}`;
    const env = { ...s3Env(server as NonNullable<typeof server>), SLUICE_PASSWORD_FILE: passwordFile, SLUICE_KDF: TEST_KDF, SLUICE_CACHE_DIR: join(dir, 'cache'), SLUICE_PASSWORD: '' };
    const run = (args: string[], opts: { endpoint?: string; input?: Uint8Array; env?: Record<string, string> } = {}) =>
      runSluice([...args, '--repo', `s3:${opts.endpoint ?? server?.endpoint}/${path}`], {
        env: { ...env, ...opts.env },
        ...(opts.input === undefined ? {} : { input: opts.input }),
      });
    const init = await run(['init', '--pack-size', '1M']);
    assert.equal(init.status, 0, init.stderr);
    /** A sluice process whose stdin the test feeds piece by piece. */
    const start = (args: string[], endpoint = server?.endpoint) => {
      const child = spawn(process.execPath, [SLUICE_JS, ...args, '--repo', `s3:${endpoint}/${path}`], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      child.stdout.resume();
      child.stdin.on('error', () => undefined);
      const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (status, signal) => resolve({ status, signal })));
      return { child, exited, stderr: () => stderr };
    };
    /** Objects under a prefix of this repository, read directly from the server. */
    const count = async (prefix: string): Promise<number> => {
      const store = s3Store(server as NonNullable<typeof server>, bucket, path.slice(bucket.length + 1));
      try {
        let n = 0;
        for await (const _ of store.list(prefix)) n += 1;
        return n;
      } finally {
        store.destroy();
      }
    };
    return { run, dir, start, count };
  }

  async function until(what: string, test: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await test())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }

  test('s3 faults: wrong credentials fail at once, naming bucket, key and HTTP 403', async (t) => {
    const repo = await s3Repo(t);
    const started = Date.now();
    const r = await repo.run(['snapshots'], { env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`S3 ListObjectsV2 of bucket ${bucket} key \\S* ?failed \\(HTTP 403\\): SignatureDoesNotMatch: the credentials are wrong`));
    assert.doesNotMatch(r.stderr, /retry/);
    assert.doesNotMatch(r.stderr, /not-the-secret/);
    assert.ok(Date.now() - started < 10_000, 'no backoff for a request that cannot succeed');
    const key = await repo.run(['snapshots'], { env: { AWS_ACCESS_KEY_ID: 'AKIANOSUCHKEY0000000' } });
    assert.equal(key.status, 1);
    assert.match(key.stderr, /HTTP 403\): InvalidAccessKeyId/);
  });

  test('s3 faults: connections cut mid-upload are retried and the snapshot restores', async (t) => {
    const repo = await s3Repo(t);
    const proxy = await cutProxy({ host: target.hostname, port: Number(target.port) }, 'upload', 256 * 1024, 3);
    t.after(() => proxy.close());
    const data = pseudoRandomBytes(6 * 1024 * 1024, 11);
    const r = await repo.run(['snapshot', '--stdin', 'db.sql'], { endpoint: `http://127.0.0.1:${proxy.port}`, input: data });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(proxy.cuts, 3);
    assert.match(r.stderr, /warning: S3 PutObject of .* failed .*; retry 1 of 5 in \d+ ms/);
    const cat = await repo.run(['cat', 'latest:db.sql']);
    assert.equal(cat.status, 0, cat.stderr);
    assert.ok(cat.stdout.equals(data), 'the stream restores byte for byte');
    const check = await repo.run(['check', '--read-data']);
    assert.equal(check.status, 0, check.stderr);
  });

  test('s3 faults: connections cut mid-download are retried and cat still verifies', async (t) => {
    const repo = await s3Repo(t);
    const data = pseudoRandomBytes(4 * 1024 * 1024, 12);
    assert.equal((await repo.run(['snapshot', '--stdin', 'x.bin'], { input: data })).status, 0);
    const proxy = await cutProxy({ host: target.hostname, port: Number(target.port) }, 'download', 200 * 1024, 3);
    t.after(() => proxy.close());
    const cat = await repo.run(['cat', 'latest:x.bin', '--no-cache'], { endpoint: `http://127.0.0.1:${proxy.port}` });
    assert.equal(cat.status, 0, cat.stderr);
    assert.equal(proxy.cuts, 3);
    assert.match(cat.stderr, /warning: S3 GetObject .* retry 1 of/);
    assert.ok(cat.stdout.equals(data));
  });

  test('s3 faults: when every upload is cut the backup fails clearly and leaves no snapshot', async (t) => {
    const repo = await s3Repo(t);
    const proxy = await cutProxy({ host: target.hostname, port: Number(target.port) }, 'upload', 256 * 1024, Number.POSITIVE_INFINITY);
    t.after(() => proxy.close());
    const r = await repo.run(['snapshot', '--stdin', 'db.sql', '--s3-retries', '3'], { endpoint: `http://127.0.0.1:${proxy.port}`, input: pseudoRandomBytes(3 * 1024 * 1024, 13) });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`error: S3 PutObject of bucket ${bucket} key \\S+/data/\\w\\w/\\w+ failed: .*\\(after 3 attempts\\)`));
    const list = await repo.run(['snapshots', '--json']);
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout.toString()), []);
    const check = await repo.run(['check']);
    assert.equal(check.status, 0, check.stderr);
    const unlock = await repo.run(['snapshots']);
    assert.equal(unlock.status, 0);
  });

  test('s3 faults: the gateway goes away mid-backup and comes back; the backup completes after retries', async (t) => {
    const repo = await s3Repo(t);
    const proxy = await cutProxy({ host: target.hostname, port: Number(target.port) }, 'upload', 0, 0);
    t.after(() => proxy.close());
    const data = pseudoRandomBytes(12 * 1024 * 1024, 14);
    const backup = repo.start(['snapshot', '--stdin', 'db.sql', '--s3-retries', '12'], `http://127.0.0.1:${proxy.port}`);
    backup.child.stdin.write(data.subarray(0, 6 * 1024 * 1024));
    await until('the first packs', async () => (await repo.count('data/')) >= 2);
    await proxy.down();
    backup.child.stdin.end(data.subarray(6 * 1024 * 1024));
    await sleep(2000);
    await proxy.up();
    const { status } = await backup.exited;
    assert.equal(status, 0, backup.stderr());
    assert.match(backup.stderr(), /warning: S3 \w+ of .* failed .*ECONNREFUSED|warning: S3 \w+ of .* failed .*(socket hang up|ECONNRESET)/);
    const cat = await repo.run(['cat', 'latest:db.sql']);
    assert.equal(cat.status, 0, cat.stderr);
    assert.ok(cat.stdout.equals(data));
  });

  test('s3 faults: kill -9 during upload; check passes and the next backup reuses the uploaded packs', async (t) => {
    const repo = await s3Repo(t);
    const data = pseudoRandomBytes(24 * 1024 * 1024, 15);
    const backup = repo.start(['snapshot', '--stdin', 'db.sql']);
    backup.child.stdin.write(data.subarray(0, 20 * 1024 * 1024));
    await until('an index object', async () => (await repo.count('index/')) >= 1);
    backup.child.kill('SIGKILL');
    assert.equal((await backup.exited).signal, 'SIGKILL');
    assert.equal(await repo.count('snapshots/'), 0, 'a killed backup leaves no snapshot');
    const check = await repo.run(['check']);
    assert.equal(check.status, 0, check.stderr);
    const again = await repo.run(['snapshot', '--stdin', 'db.sql', '--json'], { input: data });
    assert.equal(again.status, 0, again.stderr);
    const { summary } = JSON.parse(again.stdout.toString()) as { summary: { newBytes: number } };
    assert.ok(summary.newBytes <= data.length - 7 * 1024 * 1024, `the second backup stored ${summary.newBytes} new bytes of ${data.length}`);
    const cat = await repo.run(['cat', 'latest:db.sql']);
    assert.ok(cat.stdout.equals(data));
  });

  test('s3 faults: two backups to one repository at once both commit and both restore', async (t) => {
    const repo = await s3Repo(t);
    const a = pseudoRandomBytes(5 * 1024 * 1024, 16);
    const b = pseudoRandomBytes(5 * 1024 * 1024, 17);
    const [ra, rb] = await Promise.all([repo.run(['snapshot', '--stdin', 'a.sql'], { input: a }), repo.run(['snapshot', '--stdin', 'b.sql'], { input: b })]);
    assert.equal(ra.status, 0, ra.stderr);
    assert.equal(rb.status, 0, rb.stderr);
    assert.equal(await repo.count('snapshots/'), 2);
    assert.ok((await repo.run(['cat', 'latest:a.sql'])).stdout.equals(a));
    assert.ok((await repo.run(['cat', 'latest:b.sql'])).stdout.equals(b));
    const check = await repo.run(['check', '--read-data']);
    assert.equal(check.status, 0, check.stderr);
  });
}
