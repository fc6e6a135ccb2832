/** Streams and trees go in and come back out identical, through the CLI a user runs. */
import assert from 'node:assert/strict';
import { mkdir, open, symlink, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok } from '../helpers/cli.js';
import { describeTree, makeTree, pseudoRandomBytes, sha256 } from '../helpers/tree.js';
import { json, testRepo } from './helpers.js';

test('a binary stream from stdin comes back byte for byte, with its SHA-256 recorded', async (t) => {
  const r = await testRepo(t);
  const data = pseudoRandomBytes(5 * 1024 * 1024 + 17, 42);
  const saved = json<{ id: string; streams: string[] }>(ok(await r.run(['snapshot', '--stdin', 'db.sql', '--tag', 'nightly', '--json'], { input: data })));
  assert.deepEqual(saved.streams, ['db.sql']);
  const out = ok(await r.run(['cat', `${saved.id.slice(0, 8)}:db.sql`]));
  assert.equal(sha256(out.stdout), sha256(data));
  const listing = ok(await r.run(['ls', 'latest', '--json'])).stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const node = listing.find((l) => l.path === '/db.sql');
  assert.equal(node?.size, data.length);
  assert.equal(node?.sha256, sha256(data));
  const snaps = json<{ tags: string[]; summary: { bytes: number } }[]>(ok(await r.run(['snapshots', '--json'])));
  assert.deepEqual(snaps[0]?.tags, ['nightly']);
  assert.equal(snaps[0]?.summary.bytes, data.length);
});

test('an empty stream is a snapshot of an empty file', async (t) => {
  const r = await testRepo(t);
  ok(await r.run(['snapshot', '--stdin', 'empty.bin'], { input: '' }));
  const out = ok(await r.run(['cat', 'latest:/empty.bin']));
  assert.equal(out.stdout.length, 0);
});

test('a tree with unicode names, symlinks, empty files and many small files restores identically', async (t) => {
  const r = await testRepo(t);
  const src = join(r.dir, 'src');
  const spec: Record<string, string | Uint8Array | { symlink: string } | { dir: true }> = {
    'ünïcødé/名前 with spaces.txt': 'unicode\n',
    'emoji/🙂.bin': pseudoRandomBytes(3000, 1),
    'empty-file': '',
    'empty-dir': { dir: true },
    'links/to-file': { symlink: '../ünïcødé/名前 with spaces.txt' },
    'links/dangling': { symlink: 'nowhere/at/all' },
    'links/absolute': { symlink: '/etc/passwd' },
    'big/one.bin': pseudoRandomBytes(3 * 1024 * 1024, 7),
  };
  for (let i = 0; i < 300; i++) spec[`many/d${i % 7}/f${i}.txt`] = `file ${i}\n`.repeat(i % 5);
  await makeTree(src, spec);
  ok(await r.run(['snapshot', src]));
  const target = join(r.dir, 'restored');
  ok(await r.run(['restore', 'latest', '--target', target]));
  assert.deepEqual(await describeTree(join(target, src.slice(1))), await describeTree(src));
  // Re-rooted restore of a subtree, and a restore limited by --include.
  const sub = join(r.dir, 'sub');
  ok(await r.run(['restore', `latest:${src}/links`, '--target', sub]));
  assert.deepEqual(await describeTree(sub), (await describeTree(join(src, 'links'))));
  const only = join(r.dir, 'only');
  ok(await r.run(['restore', 'latest', '--target', only, '--include', `${src}/emoji`]));
  assert.deepEqual((await describeTree(only)).filter((i) => i.kind !== 'dir').map((i) => i.path), [`${src.slice(1)}/emoji/🙂.bin`]);
});

test('a huge sparse file round trips and stays sparse, reading almost nothing into the repository', async (t) => {
  const r = await testRepo(t);
  const src = join(r.dir, 'sparse');
  await mkdir(src);
  const file = join(src, 'disk.img');
  const fh = await open(file, 'w');
  await fh.write(Buffer.from('header'), 0, 6, 0);
  await fh.write(Buffer.from('middle'), 0, 6, 100 * 1024 * 1024);
  await fh.truncate(256 * 1024 * 1024);
  await fh.close();
  const saved = json<{ summary: { storedBytes: number; bytes: number } }>(ok(await r.run(['snapshot', src, '--json'])));
  assert.equal(saved.summary.bytes, 256 * 1024 * 1024);
  assert.ok(saved.summary.storedBytes < 1024 * 1024, `stored ${saved.summary.storedBytes} bytes for 256 MiB of mostly zeros`);
  const target = join(r.dir, 'out');
  ok(await r.run(['restore', 'latest', '--target', target]));
  const restored = join(target, file.slice(1));
  const st = await stat(restored);
  assert.equal(st.size, 256 * 1024 * 1024);
  assert.ok(st.blocks * 512 < 64 * 1024 * 1024, `restored file uses ${st.blocks * 512} bytes on disk`);
  const a = await open(restored, 'r');
  const buf = Buffer.alloc(6);
  await a.read(buf, 0, 6, 100 * 1024 * 1024);
  await a.close();
  assert.equal(buf.toString(), 'middle');
});

test('several streams and directories in one snapshot; ls and diff see them', async (t) => {
  const r = await testRepo(t);
  const etc = join(r.dir, 'etc');
  const www = join(r.dir, 'var', 'www');
  await makeTree(etc, { hosts: '127.0.0.1 localhost\n', 'conf.d/a.conf': 'a=1\n' });
  await makeTree(www, { 'index.html': '<h1>hi</h1>\n' });
  const first = json<{ id: string; streams: string[]; paths: string[] }>(
    ok(await r.run(['snapshot', etc, www, '--stdin', 'db.sql', '--command', 'dumps/pg.sql=printf "pg dump\\n"', '--json'], { input: 'mysql dump\n' })),
  );
  assert.deepEqual(first.streams.sort(), ['db.sql', 'dumps/pg.sql']);
  assert.equal(ok(await r.run(['cat', 'latest:/dumps/pg.sql'])).stdout.toString(), 'pg dump\n');
  assert.equal(ok(await r.run(['cat', 'latest', 'db.sql'])).stdout.toString(), 'mysql dump\n');
  const ls = ok(await r.run(['ls', 'latest'])).stdout.toString();
  for (const p of [`${etc}/hosts`, `${etc}/conf.d/a.conf`, `${www}/index.html`, '/db.sql', '/dumps/pg.sql']) assert.ok(ls.includes(`${p}\n`), `${p} listed`);
  await writeFile(join(etc, 'hosts'), 'changed\n');
  await writeFile(join(etc, 'new'), 'new\n');
  ok(await r.run(['snapshot', etc, www, '--stdin', 'db.sql', '--command', 'dumps/pg.sql=printf "pg dump\\n"'], { input: 'mysql dump\n' }));
  const diff = ok(await r.run(['diff', first.id.slice(0, 8), 'latest'])).stdout.toString();
  assert.match(diff, new RegExp(`^M +${etc}/hosts$`, 'm'));
  assert.match(diff, new RegExp(`^\\+ +${etc}/new$`, 'm'));
  assert.doesNotMatch(diff, /index\.html/);
  assert.match(diff, /^U +\/db\.sql +\(mtime\)$/m, 'same stream content: only its time changed');
});

test('a command stream records its command, exit status and stderr tail', async (t) => {
  const r = await testRepo(t);
  ok(await r.run(['snapshot', '--stdin-from-command', 'out.txt', '--', 'sh', '-c', 'echo data; echo "warning: something" >&2']));
  const lines = ok(await r.run(['ls', 'latest', '--json'])).stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { path?: string; stream?: { command: string[]; exitCode: number; stderrTail: string } });
  const node = lines.find((l) => l.path === '/out.txt');
  assert.deepEqual(node?.stream?.command, ['sh', '-c', 'echo data; echo "warning: something" >&2']);
  assert.equal(node?.stream?.exitCode, 0);
  assert.equal(node?.stream?.stderrTail, 'warning: something\n');
});

test('symlinked target parents are never followed on restore', async (t) => {
  const r = await testRepo(t);
  const src = join(r.dir, 'src');
  await makeTree(src, { 'd/file': 'content' });
  ok(await r.run(['snapshot', src]));
  const target = join(r.dir, 'target');
  const outside = join(r.dir, 'outside');
  await mkdir(outside);
  await mkdir(join(target, src.slice(1)), { recursive: true });
  await symlink(outside, join(target, src.slice(1), 'd'));
  const res = await r.run(['restore', 'latest', '--target', target]);
  assert.notEqual(res.status, 0);
  assert.match(res.stderr, /symlink/);
  assert.deepEqual(await describeTree(outside), []);
});
