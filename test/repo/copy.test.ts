/**
 * `sluice copy` between a local repository and one on S3 (Ceph RGW in CI), both ways: re-encrypted for the
 * target, only missing blobs stored, idempotent, and what was copied restores byte for byte.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { RunResult } from '../helpers/cli.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { json, testRepo } from './helpers.js';
import { announceSkip, removeBucket, s3Env, s3Server, testBucket } from './s3-server.js';

interface Report {
  snapshotsCopied: number;
  snapshotsSkipped: number;
  blobsCopied: number;
  bytesCopied: number;
}

const server = s3Server();
if (server === undefined) {
  announceSkip('test/repo/copy.test.ts');
  test('copy between local and S3 repositories', { skip: 'no S3 server configured (S3_ENDPOINT unset)' }, () => undefined);
} else {
  const bucket = testBucket();
  after(() => removeBucket(server, bucket));

  test('copy: local -> S3 -> local, re-encrypted, only missing blobs, idempotent', async (t) => {
    const local = await testRepo(t);
    const data = join(local.dir, 'data');
    await mkdir(join(data, 'sub'), { recursive: true });
    await writeFile(join(data, 'a.bin'), pseudoRandomBytes(3 * 1024 * 1024, 21));
    await writeFile(join(data, 'sub', 'small.txt'), 'hello\n');
    await symlink('a.bin', join(data, 'link'));
    const stream = pseudoRandomBytes(2 * 1024 * 1024, 22);
    const ok = async (r: Promise<RunResult>, what: string) => {
      const res = await r;
      assert.equal(res.status, 0, `${what}: ${res.stderr}`);
      return res;
    };
    await ok(local.run(['snapshot', data, '--stdin', 'db.sql', '--tag', 'nightly'], { input: stream }), 'snapshot 1');
    await ok(local.run(['snapshot', '--stdin', 'db.sql', '--tag', 'other'], { input: stream }), 'snapshot 2');

    // The S3 repository has its own password (and keys): everything must be re-encrypted.
    const s3 = await testRepo(t, false);
    await writeFile(s3.passwordFile, 'another password\n');
    const s3Repo = `s3:${server.endpoint}/${bucket}/copy-${randomBytes(4).toString('hex')}`;
    const s3Run = (args: string[], env: Record<string, string> = {}) => s3.run(args, { env: { ...s3Env(server), SLUICE_REPO: s3Repo, ...env } });
    await ok(s3Run(['init', '--pack-size', '1M']), 'init s3');
    const from = { SLUICE_FROM_REPO: local.repo, SLUICE_FROM_PASSWORD_FILE: local.passwordFile };

    const first = json<Report>(await ok(s3Run(['copy', '--tag', 'nightly', '--json'], from), 'copy nightly'));
    assert.equal(first.snapshotsCopied, 1);
    assert.ok(first.bytesCopied >= 5 * 1024 * 1024, `copied ${first.bytesCopied} bytes`);
    const second = json<Report>(await ok(s3Run(['copy', '--json'], from), 'copy all'));
    assert.equal(second.snapshotsCopied, 1);
    assert.equal(second.snapshotsSkipped, 1);
    assert.ok(second.bytesCopied < 16 * 1024, `the second snapshot shares the stream's chunks: only its tree is new (copied ${second.bytesCopied} bytes)`);
    const third = json<Report>(await ok(s3Run(['copy', '--json'], from), 'copy again'));
    assert.deepEqual([third.snapshotsCopied, third.snapshotsSkipped, third.blobsCopied], [0, 2, 0]);

    const listed = json<{ tags: string[]; paths: string[] }[]>(await ok(s3Run(['snapshots', '--json']), 'snapshots'));
    assert.deepEqual(listed.map((s) => s.tags), [['nightly'], ['other']]);
    assert.deepEqual(listed[0]?.paths, [data]);
    const nightly = (await ok(s3Run(['snapshots', '--json', '--tag', 'nightly']), 'snapshots nightly')).stdout;
    const nightlyId = (JSON.parse(nightly.toString()) as { id: string }[])[0]?.id as string;
    assert.ok((await ok(s3Run(['cat', `${nightlyId.slice(0, 8)}:db.sql`]), 'cat')).stdout.equals(stream));
    const restored = join(s3.dir, 'restored');
    await ok(s3Run(['restore', nightlyId.slice(0, 8), '--target', restored]), 'restore');
    assert.ok((await readFile(join(restored, data, 'a.bin'))).equals(await readFile(join(data, 'a.bin'))));
    assert.equal(await readFile(join(restored, data, 'sub', 'small.txt'), 'utf8'), 'hello\n');
    await ok(s3Run(['check', '--read-data']), 'check s3');

    // And back: S3 -> a new local repository, only `latest`.
    const back = await testRepo(t);
    const toLocal = json<Report>(
      await ok(back.run(['copy', 'latest', '--json'], { env: { ...s3Env(server), SLUICE_FROM_REPO: s3Repo, SLUICE_FROM_PASSWORD_FILE: s3.passwordFile } }), 'copy back'),
    );
    assert.equal(toLocal.snapshotsCopied, 1);
    const cat = await ok(back.run(['cat', 'latest:db.sql']), 'cat back');
    assert.ok(cat.stdout.equals(stream));
    await ok(back.run(['check', '--read-data']), 'check back');
  });
}
