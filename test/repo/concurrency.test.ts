/** Two backups at once, plus a prune: all succeed, nothing a backup needs is deleted. */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LockedError, RepoLock } from '../../src/repo/lock.js';
import { Repository } from '../../src/repo/repository.js';
import { MemoryStore } from '../../src/repo/storage/memory.js';
import { ok } from '../helpers/cli.js';
import { sha256 } from '../helpers/tree.js';
import { client, json, memoryRepo, TEST_PASSWORD, testRepo } from './helpers.js';

/** A shell producer of `mib` MiB of seeded pseudo-random data, written slowly. */
function slow(seed: number, mib: number): string {
  return `node -e '
    const piece = Buffer.alloc(256 * 1024); let x = ${seed}, left = ${mib * 4};
    const next = () => { if (left-- <= 0) return process.stdout.end();
      for (let i = 0; i < piece.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; piece[i] = x >>> 24; }
      if (process.stdout.write(piece)) setTimeout(next, 60); else process.stdout.once("drain", () => setTimeout(next, 60)); };
    next();'`;
}

/** Waits until some process holds a lock on the repository (the backup has really started). */
async function lockTaken(repo: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await readdir(join(repo, 'locks')).catch(() => [])).length > 0) return;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('no lock appeared');
}

test('two concurrent backups and a prune waiting for them: all succeed and the repository checks clean', async (t) => {
  const r = await testRepo(t);
  // Something for prune to remove: a snapshot that is then forgotten.
  const old = json<{ id: string }>(ok(await r.sh(`${slow(7, 2)} | $SLUICE snapshot --stdin old.bin --json`)));
  ok(await r.run(['forget', old.id]));
  const a = r.sh(`${slow(1, 5)} | $SLUICE snapshot --stdin a.bin --retry-lock 60s --json`);
  const b = r.sh(`${slow(2, 5)} | $SLUICE snapshot --stdin b.bin --retry-lock 60s --json`);
  await lockTaken(r.repo);
  const p = r.run(['prune', '--retry-lock', '60s', '--json']);
  const [ra, rb, rp] = await Promise.all([a, b, p]);
  assert.equal(ra.status, 0, ra.stderr);
  assert.equal(rb.status, 0, rb.stderr);
  assert.equal(rp.status, 0, rp.stderr);
  assert.match(ra.stderr + rb.stderr + rp.stderr, /locked .*waiting/, `someone waited for a lock: ${rp.stdout.toString()}`);
  const report = json<{ packsDeleted: number; bytesDeleted: number }>(rp);
  assert.ok(report.packsDeleted > 0 && report.bytesDeleted > 1024 * 1024, `prune removed the forgotten data: ${rp.stdout.toString()}`);
  ok(await r.run(['check', '--read-data']));
  for (const [name, seed] of [['a.bin', 1], ['b.bin', 2]] as const) {
    const expected = ok(await r.sh(`${slow(seed, 5)} | sha256sum`)).stdout.toString().slice(0, 64);
    assert.equal(sha256(ok(await r.run(['cat', `latest:${name}`])).stdout), expected, 'latest:NAME is the newest snapshot holding NAME');
  }
});

test('a prune without --retry-lock refuses to run beside a backup (exit status 11)', async (t) => {
  const r = await testRepo(t);
  const backup = r.sh(`${slow(3, 6)} | $SLUICE snapshot --stdin c.bin`);
  await lockTaken(r.repo);
  const prune = await r.run(['prune']);
  assert.equal(prune.status, 11, prune.stderr);
  assert.match(prune.stderr, /locked by snapshot/);
  assert.equal((await backup).status, 0);
  ok(await r.run(['prune']));
});

test('locks: shared locks coexist, exclusive excludes, stale locks (dead pid, or old) never block', async () => {
  const store = new MemoryStore();
  await memoryRepo(store);
  let now = Date.parse('2024-06-01T00:00:00Z');
  const open = () => Repository.open(store, TEST_PASSWORD, client(() => new Date(now)));
  const a = await RepoLock.acquire(await open(), { exclusive: false, purpose: 'snapshot', pid: process.pid });
  const b = await RepoLock.acquire(await open(), { exclusive: false, purpose: 'snapshot', pid: process.pid });
  await assert.rejects(RepoLock.acquire(await open(), { exclusive: true, purpose: 'prune', pid: process.pid }), (e: unknown) => e instanceof LockedError && e.exitCode === 11);
  await a.release();
  await b.release();
  const x = await RepoLock.acquire(await open(), { exclusive: true, purpose: 'prune', pid: process.pid });
  await assert.rejects(RepoLock.acquire(await open(), { exclusive: false, purpose: 'snapshot', pid: process.pid }), LockedError);
  // The holder "dies": same host, a pid that is not running → stale at once.
  const dead = await RepoLock.acquire(await open(), { exclusive: false, purpose: 'snapshot', pid: process.pid, isAlive: () => false }).catch((e: unknown) => e);
  assert.ok(dead instanceof RepoLock, 'a lock of a dead process does not block');
  await dead.release();
  // Or it stops refreshing: 31 minutes later it is stale even for a live pid.
  now += 31 * 60 * 1000;
  const later = await RepoLock.acquire(await open(), { exclusive: true, purpose: 'prune', pid: process.pid });
  await later.release();
  await x.release();
});

test('a lock is refreshed by writing a new object and deleting the old one', async () => {
  const store = new MemoryStore();
  await memoryRepo(store);
  const repo = await Repository.open(store, TEST_PASSWORD, client());
  const lock = await RepoLock.acquire(repo, { exclusive: false, purpose: 'snapshot', pid: process.pid, refreshMs: 30 });
  const first = lock.id;
  await new Promise((res) => setTimeout(res, 120));
  assert.notEqual(lock.id, first);
  const names: string[] = [];
  for await (const info of store.list('locks/')) names.push(info.name);
  assert.equal(names.length, 1);
  await lock.release();
  for await (const _ of store.list('locks/')) assert.fail('lock left behind');
});
