/**
 * Crash safety: a backup that dies at any point leaves no snapshot (or a complete one), a repository
 * that passes check, and a next backup that succeeds and reuses what was already uploaded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { toSafePath } from '../../src/entry.js';
import { ContentWriter } from '../../src/repo/content/content-writer.js';
import { checkRepository } from '../../src/repo/maintenance/check.js';
import { Repository } from '../../src/repo/repository.js';
import { Archiver } from '../../src/repo/snapshot/archiver.js';
import { readFile as readSnapshotFile } from '../../src/repo/snapshot/stored-file-reader.js';
import { listSnapshots } from '../../src/repo/snapshot/snapshots.js';
import { findNode } from '../../src/repo/snapshot/walker.js';
import { FaultyStore } from '../../src/repo/storage/faulty.js';
import { MemoryStore } from '../../src/repo/storage/memory.js';
import type { ObjectStore } from '../../src/repo/storage/object-store.js';
import { CryptoPool } from '../../src/repo/workers/crypto-pool.js';
import { SLUICE_JS } from '../helpers/cli.js';
import { pseudoRandomBytes, sha256 } from '../helpers/tree.js';
import { client, json, memoryRepo, TEST_PASSWORD, testRepo } from './helpers.js';

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, Math.min(data.length, at + size));
}

async function backupStream(store: ObjectStore, data: Uint8Array): Promise<{ id: string; newBytes: number }> {
  const repo = await Repository.open(store, TEST_PASSWORD, client());
  await repo.loadIndex();
  const session = new ContentWriter(repo, { packSize: 64 * 1024, indexEveryPacks: 2, sealers: 1, slots: 4 });
  try {
    const archiver = new Archiver(repo, session, { now: () => new Date() });
    await archiver.addStream(toSafePath('db.sql'), pieces(data, 50_000), { mode: 0o600, mtimeMs: 0 }, { kind: 'stdin' });
    const { id, snapshot } = await archiver.commit({ time: new Date(), host: 'h', user: 'u', tags: [], program: 'test' });
    return { id, newBytes: snapshot.summary.newBytes };
  } catch (err) {
    await session.abandon();
    throw err;
  } finally {
    await session.close();
  }
}

async function readBack(store: ObjectStore): Promise<string[]> {
  const repo = await Repository.open(store, TEST_PASSWORD, client());
  await repo.loadIndex();
  const pool = new CryptoPool({ setup: { keys: repo.workerKeys }, sealers: 1 });
  const out: string[] = [];
  try {
    for (const { snapshot } of await listSnapshots(repo)) {
      const node = await findNode(repo, snapshot.tree, toSafePath('db.sql'));
      assert.equal(node.type, 'file');
      const parts: Uint8Array[] = [];
      if (node.type === 'file') for await (const p of readSnapshotFile(repo, pool, node, '/db.sql')) parts.push(p);
      out.push(sha256(Buffer.concat(parts)));
    }
  } finally {
    await pool.close();
  }
  return out;
}

test('a store failure at every put in turn: never a partial snapshot, check passes, the retry succeeds', async () => {
  const data = pseudoRandomBytes(600_000, 77);
  const digest = sha256(data);
  // Count the puts of one clean backup, then fail each of them in turn (before and after the write lands).
  const probe = new MemoryStore();
  await memoryRepo(probe);
  const counter = new FaultyStore(probe);
  await backupStream(counter, data);
  const puts = counter.puts;
  assert.ok(puts >= 6, `a backup makes several puts (${puts})`);
  let reusedSomewhere = false;
  for (let n = 1; n <= puts; n++) {
    // Both kinds of failure for the last put (the snapshot object); alternating kinds for the others.
    for (const failAfterWrite of n === puts ? [false, true] : [n % 2 === 0]) {
      const inner = new MemoryStore();
      await memoryRepo(inner);
      const faulty = new FaultyStore(inner, { failPut: n, sticky: true, failAfterWrite });
      await assert.rejects(backupStream(faulty, data), /injected fault/);
      const repo = await Repository.open(inner, TEST_PASSWORD, client());
      const report = await checkRepository(repo);
      assert.deepEqual(report.problems, [], `put ${n} failing (after write: ${failAfterWrite})`);
      const snapshotsAfterCrash = await readBack(inner);
      // Only the very last put (the snapshot) may land, and then the snapshot is complete.
      assert.ok(snapshotsAfterCrash.every((d) => d === digest));
      if (snapshotsAfterCrash.length > 0) assert.ok(n === puts && failAfterWrite);
      const retry = await backupStream(inner, data);
      if (retry.newBytes < data.length) reusedSomewhere = true;
      assert.ok((await readBack(inner)).every((d) => d === digest));
      assert.deepEqual((await checkRepository(await Repository.open(inner, TEST_PASSWORD, client()))).problems, []);
    }
  }
  assert.ok(reusedSomewhere, 'some retries reused data indexed before the failure');
});

test('kill -9 at random instants of a backup from a slow pipe: check passes, the next backup works and reuses data', async (t) => {
  const r = await testRepo(t);
  const total = 5 * 1024 * 1024;
  const producer = `
    const piece = Buffer.alloc(128 * 1024);
    let x = 12345, sent = 0;
    const next = () => {
      if (sent >= ${total}) return process.stdout.end();
      for (let i = 0; i < piece.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; piece[i] = x >>> 24; }
      sent += piece.length;
      if (process.stdout.write(piece)) setTimeout(next, 15); else process.stdout.once('drain', () => setTimeout(next, 15));
    };
    next();`;
  const trials = [250, 450, 650, 800].map((ms) => ms + Math.floor(Math.random() * 150));
  let reused = 0;
  for (const delay of trials) {
    const source = spawn(process.execPath, ['-e', producer], { stdio: ['ignore', 'pipe', 'ignore'] });
    const child = spawn(process.execPath, [SLUICE_JS, 'snapshot', '--stdin', 'db.sql', '--pack-size', '64K', '-q'], {
      env: { ...process.env, ...r.env },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    source.stdout.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((res) => setTimeout(res, delay));
    // SIGKILL: no chance to clean up (the lock stays behind and must be seen as stale).
    child.kill('SIGKILL');
    await exited;
    source.kill('SIGKILL');
    const check = await r.run(['check']);
    assert.equal(check.status, 0, `check after a kill at ${delay} ms: ${check.stderr} ${stderr}`);
    const listed = await r.run(['snapshots', '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    const snaps = json<{ summary: { bytes: number } }[]>(listed);
    for (const s of snaps) assert.equal(s.summary.bytes, total, 'any snapshot that exists is complete');
    const again = await r.sh(`node -e '${producer.replace(/'/g, "'\\''")}' | $SLUICE snapshot --stdin db.sql --pack-size 64K --json`);
    assert.equal(again.status, 0, again.stderr);
    assert.ok(again.stdout.length > 0, `no summary: ${again.stderr}`);
    const summary = json<{ summary: { newBytes: number } }>(again).summary;
    if (summary.newBytes < total) reused += 1;
  }
  const final = await r.run(['check', '--read-data']);
  assert.equal(final.status, 0, final.stderr);
  assert.ok(reused > 0, 'a backup after a kill reused uploaded data at least once');
});
