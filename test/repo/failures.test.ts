/** What must fail, fails clearly and with the documented exit status. */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok } from '../helpers/cli.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { json, testRepo } from './helpers.js';

async function packFiles(repo: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of await readdir(join(repo, 'data'))) for (const f of await readdir(join(repo, 'data', dir))) out.push(join(repo, 'data', dir, f));
  return out;
}

test('a flipped byte in a pack: check --read-data and cat both refuse with exit status 4', async (t) => {
  const r = await testRepo(t);
  const data = pseudoRandomBytes(3 * 1024 * 1024, 8);
  ok(await r.run(['snapshot', '--stdin', 'db.sql'], { input: data }));
  ok(await r.run(['check', '--read-data']));
  const packs = [];
  for (const p of await packFiles(r.repo)) packs.push({ p, size: (await readFile(p)).length });
  const biggest = packs.sort((a, b) => b.size - a.size)[0]?.p as string;
  const bytes = await readFile(biggest);
  bytes[1000] = (bytes[1000] as number) ^ 0x40;
  await writeFile(biggest, bytes);
  const structure = await r.run(['check']);
  assert.equal(structure.status, 0, 'structure alone cannot see a flipped data byte');
  const check = await r.run(['check', '--read-data']);
  assert.equal(check.status, 4, check.stderr);
  assert.match(check.stderr, /failed authentication|do not hash/);
  assert.match(check.stderr, new RegExp(biggest.slice(biggest.lastIndexOf('/') + 1, biggest.lastIndexOf('/') + 17)));
  const cat = await r.run(['cat', 'latest:db.sql']);
  assert.equal(cat.status, 4, cat.stderr);
  assert.match(cat.stderr, /db\.sql/);
  assert.match(cat.stderr, /chunk \d+, stream offset \d+/);
});

test('a wrong password is refused with exit status 12; a missing repository with 10', async (t) => {
  const r = await testRepo(t);
  const wrong = join(r.dir, 'wrong');
  await writeFile(wrong, 'not the password\n');
  const res = await r.run(['snapshots'], { env: { SLUICE_PASSWORD_FILE: wrong } });
  assert.equal(res.status, 12);
  assert.match(res.stderr, /wrong password/);
  const missing = await r.run(['snapshots'], { env: { SLUICE_REPO: join(r.dir, 'nope') } });
  assert.equal(missing.status, 10);
  assert.match(missing.stderr, /no repository/);
  const again = await r.run(['init']);
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /already exists/);
});

test('a failing --stdin-from-command leaves no snapshot and exits non-zero', async (t) => {
  const r = await testRepo(t);
  const res = await r.run(['snapshot', '--stdin-from-command', 'db.sql', '--', 'sh', '-c', 'head -c 300000 /dev/zero; echo "mysqldump: Got error: 2002" >&2; exit 2']);
  assert.equal(res.status, 1);
  assert.match(res.stderr, /exited with status 2/);
  assert.match(res.stderr, /Got error: 2002/);
  assert.deepEqual(json(ok(await r.run(['snapshots', '--json']))), []);
  const missing = await r.run(['snapshot', '--stdin-from-command', 'db.sql', '--', 'no-such-command-xyz']);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /ENOENT|not found|127/);
  const killed = await r.run(['snapshot', '--stdin-from-command', 'db.sql', '--', 'sh', '-c', 'echo x; kill -9 $$']);
  assert.notEqual(killed.status, 0);
  assert.match(killed.stderr, /SIGKILL/);
  assert.deepEqual(json(ok(await r.run(['snapshots', '--json']))), []);
  ok(await r.run(['check']));
});

test('binary output to a terminal, no password, and bad references are usage errors', async (t) => {
  const r = await testRepo(t);
  ok(await r.run(['snapshot', '--stdin', 'a'], { input: 'x' }));
  const noPassword = await r.run(['snapshots'], { env: { SLUICE_PASSWORD_FILE: '', SLUICE_PASSWORD: undefined } });
  assert.equal(noPassword.status, 2);
  assert.match(noPassword.stderr, /no password/);
  const bad = await r.run(['cat', 'zz:a']);
  assert.equal(bad.status, 2);
  const none = await r.run(['cat', 'ffff:a']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no snapshot/);
  const noPath = await r.run(['cat', 'latest:/nope']);
  assert.match(noPath.stderr, /no snapshot holds \/nope/);
  const notInIt = await r.run(['cat', `${json<{ id: string }[]>(ok(await r.run(['snapshots', '--json'])))[0]?.id.slice(0, 8)}:/nope`]);
  assert.match(notInIt.stderr, /"\/nope" is not in this snapshot/);
  const dir = await r.run(['cat', 'latest:/']);
  assert.equal(dir.status, 2);
});

test('keys: add a password, change it, and the old one stops working', async (t) => {
  const r = await testRepo(t);
  ok(await r.run(['snapshot', '--stdin', 'a'], { input: 'payload' }));
  const second = join(r.dir, 'second');
  const third = join(r.dir, 'third');
  await writeFile(second, 'second password\n');
  await writeFile(third, 'third password\n');
  ok(await r.run(['key', 'add', '--new-password-file', second]));
  assert.equal(ok(await r.run(['cat', 'latest:a'], { env: { SLUICE_PASSWORD_FILE: second } })).stdout.toString(), 'payload');
  ok(await r.run(['key', 'passwd', '--new-password-file', third], { env: { SLUICE_PASSWORD_FILE: second } }));
  assert.equal((await r.run(['snapshots'], { env: { SLUICE_PASSWORD_FILE: second } })).status, 12);
  assert.equal(ok(await r.run(['cat', 'latest:a'], { env: { SLUICE_PASSWORD_FILE: third } })).stdout.toString(), 'payload');
  assert.equal(ok(await r.run(['cat', 'latest:a'])).stdout.toString(), 'payload', 'the first password still works');
  const keys = json<{ id: string; current: boolean }[]>(ok(await r.run(['key', 'list', '--json'])));
  assert.equal(keys.length, 2);
  const inUse = keys.find((k) => k.current)?.id as string;
  assert.equal((await r.run(['key', 'remove', inUse.slice(0, 8)])).status, 1);
  const other = keys.find((k) => !k.current)?.id as string;
  ok(await r.run(['key', 'remove', other.slice(0, 8)]));
  assert.equal((await r.run(['snapshots'], { env: { SLUICE_PASSWORD_FILE: third } })).status, 12);
});
