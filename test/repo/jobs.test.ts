/**
 * The repository jobs called as a library, in-process (src/index.ts): what only the API exposes (streams
 * from any async iterable, callbacks, cancellation, password callbacks) and the rules that moved out of
 * the CLI (the key in use, forget's lock switch for prune).
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  addKey,
  changePassword,
  check,
  diff,
  forget,
  initRepository,
  listKeys,
  listSnapshots,
  listTree,
  openFile,
  openRepository,
  openStream,
  removeKey,
  SluiceError,
  snapshot,
} from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeTree, pseudoRandomBytes, sha256 } from '../helpers/tree.js';

const KDF = { N: 1024, r: 8, p: 1 };

async function* pieces(data: Uint8Array, size: number, signal?: { abortAfter: number; controller: AbortController }): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) {
    if (signal !== undefined && at >= signal.abortAfter) signal.controller.abort();
    yield data.subarray(at, Math.min(data.length, at + size));
  }
}

async function collect(data: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of data) parts.push(part);
  return Buffer.concat(parts);
}

async function newRepo(t: { after(fn: () => unknown): void }): Promise<{ dir: string; location: string }> {
  const dir = await tempDir(t, 'sluice-jobs-');
  const location = join(dir, 'repo');
  await initRepository({ location, password: 'first', kdf: KDF, client: { host: 'h1', user: 'u' } });
  return { dir, location };
}

test('a snapshot of a caller stream and a command, read back verified; progress is reported; diff and listTree see them', async (t) => {
  const { dir, location } = await newRepo(t);
  let asked = 0;
  const opened = await openRepository({ location, password: async () => (asked++, 'first'), lock: 'shared', client: { host: 'h1' } });
  t.after(() => opened.close());
  assert.equal(asked, 1);
  const data = pseudoRandomBytes(3_000_000, 3);
  const progress: number[] = [];
  const stderr: Uint8Array[] = [];
  const first = await snapshot(opened.repo, {
    streams: [
      { name: 'db.sql', content: pieces(data, 100_000) },
      { name: 'echo.txt', command: ['/bin/sh', '-c', 'printf hello; echo warn >&2'], onStderr: (c) => stderr.push(c) },
    ],
    tags: ['api'],
    onProgress: (p) => progress.push(p.bytes),
    progressIntervalMs: 1,
  });
  assert.deepEqual(first.snapshot.streams, ['db.sql', 'echo.txt']);
  assert.equal(first.snapshot.summary.bytes, data.length + 5);
  assert.ok(progress.length > 0 && progress.every((b) => b <= data.length + 5), `progress: ${progress.join(',')}`);
  assert.equal(Buffer.concat(stderr).toString(), 'warn\n');

  const file = await openStream(opened.repo, 'latest', 'db.sql');
  assert.equal(file.node.size, data.length);
  assert.equal(sha256(await collect(file.data)), sha256(data));
  assert.equal((await collect((await openFile(opened.repo, `${first.id.slice(0, 8)}:/echo.txt`)).data)).toString(), 'hello');

  await makeTree(join(dir, 'tree'), { 'a.txt': 'a', 'sub/b.txt': 'b' });
  const second = await snapshot(opened.repo, { paths: [join(dir, 'tree')], streams: [{ name: 'db.sql', content: pieces(data.subarray(0, 1000), 100) }], tags: ['api'] });
  const listing = await listTree(opened.repo, `${second.id.slice(0, 8)}:${join(dir, 'tree')}`);
  const paths: string[] = [];
  for await (const item of listing.entries) paths.push(item.path);
  const root = join(dir, 'tree').slice(1);
  assert.deepEqual(paths, [root, `${root}/a.txt`, `${root}/sub`, `${root}/sub/b.txt`]);

  const changes = await diff(opened.repo, first.id.slice(0, 8), second.id.slice(0, 8));
  const seen: string[] = [];
  for await (const c of changes.changes) seen.push(`${c.change} ${c.path.replace(/^\//, '')}`);
  assert.ok(seen.includes('M db.sql') && seen.includes('- echo.txt'), seen.join('; '));
  assert.equal(changes.counts['-'], 1);
  assert.deepEqual((await listSnapshots(opened.repo, { tags: ['api'], latest: 1 })).map((s) => s.id), [second.id]);
  const report = await check(opened.repo, { readData: { kind: 'all' } });
  assert.deepEqual(report.problems, []);
  assert.ok(report.packsRead > 0);
});

test('a cancelled snapshot and a failed command leave no snapshot', async (t) => {
  const { location } = await newRepo(t);
  const opened = await openRepository({ location, password: 'first', lock: 'shared' });
  t.after(() => opened.close());
  const controller = new AbortController();
  await assert.rejects(snapshot(opened.repo, { streams: [{ name: 'big', content: pieces(pseudoRandomBytes(4_000_000, 5), 64 * 1024, { abortAfter: 1_000_000, controller }) }], signal: controller.signal }), (err: unknown) => err instanceof Error && err.name === 'AbortError');
  await assert.rejects(snapshot(opened.repo, { streams: [{ name: 'out', command: ['/bin/sh', '-c', 'printf x; exit 3'] }] }), (err: unknown) => err instanceof SluiceError && err.code === 'E_PRODUCER_FAILED');
  assert.deepEqual(await listSnapshots(opened.repo), []);
});

test('keys: the key in use cannot be removed; changePassword adds the new key before deleting the old', async (t) => {
  const { location } = await newRepo(t);
  const opened = await openRepository({ location, password: 'first' });
  const [only] = await listKeys(opened.repo);
  assert.equal(only?.current, true);
  await assert.rejects(removeKey(opened.repo, (only?.id ?? '').slice(0, 8)), (err: unknown) => err instanceof SluiceError && err.code === 'E_KEY_IN_USE');
  const second = await addKey(opened.repo, async () => 'second', { kdf: KDF });
  assert.equal((await listKeys(opened.repo)).length, 2);
  const { removed, added } = await changePassword(opened.repo, 'third', { kdf: KDF });
  assert.equal(removed, only?.id);
  await opened.close();
  await assert.rejects(openRepository({ location, password: 'first' }), (err: unknown) => err instanceof SluiceError && err.exitCode === 12);
  const bySecond = await openRepository({ location, password: 'second' });
  assert.equal(bySecond.repo.keyId, second);
  assert.equal(await removeKey(bySecond.repo, added.slice(0, 8)), added);
  assert.deepEqual((await listKeys(bySecond.repo)).map((k) => k.id), [second]);
  await bySecond.close();
});

test('forget with prune trades the shared lock for an exclusive one and frees the data', async (t) => {
  const { location } = await newRepo(t);
  const opened = await openRepository({ location, password: 'first', lock: 'shared', purpose: 'forget' });
  t.after(() => opened.close());
  for (let i = 0; i < 3; i++) await snapshot(opened.repo, { streams: [{ name: 'db.sql', content: pieces(pseudoRandomBytes(500_000, 10 + i), 50_000) }], time: new Date(Date.UTC(2024, 0, 1 + i)) });
  const packs = async (): Promise<number> => (await readdir(join(location, 'data'), { recursive: true })).filter((n) => /^[0-9a-f]{64}$/.test(n.split('/').pop() ?? '')).length;
  const before = await packs();
  const planned: number[] = [];
  const result = await forget(opened.repo, {
    policy: { last: 1 },
    onPlan: (plan) => planned.push(plan.remove.length),
    prune: { maxUnused: 0, ...(opened.lock === undefined ? {} : { lock: opened.lock }) },
  });
  assert.deepEqual(planned, [2]);
  assert.equal(result.remove.length, 2);
  assert.ok(result.prune !== undefined && result.prune.packsDeleted + result.prune.packsRepacked > 0, JSON.stringify(result.prune));
  assert.ok((await packs()) < before, `packs ${before} → ${await packs()}`);
  assert.equal((await listSnapshots(opened.repo)).length, 1);
  // Both locks are gone: an exclusive one can be taken at once.
  const other = await openRepository({ location, password: 'first', lock: 'exclusive' });
  await other.close();
  assert.deepEqual((await check(opened.repo)).problems, []);
});
