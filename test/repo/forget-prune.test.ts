/** Retention policies, and prune freeing exactly what no snapshot uses. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyPolicy } from '../../src/repo/maintenance/forget.js';
import type { Snapshot, SnapshotRef } from '../../src/repo/snapshot/snapshots.js';
import { ok } from '../helpers/cli.js';
import { pseudoRandomBytes, sha256 } from '../helpers/tree.js';
import { json, testRepo } from './helpers.js';

function ref(id: string, time: string, extra: Partial<Snapshot> = {}): SnapshotRef {
  return {
    id: id.padEnd(64, '0'),
    snapshot: {
      time, host: 'h', user: 'u', tags: [], paths: ['/data'], streams: [], tree: 'a'.repeat(64), program: 't',
      summary: { files: 0, dirs: 0, symlinks: 0, bytes: 0, newBytes: 0, storedBytes: 0, durationMs: 0 },
      ...extra,
    },
  };
}

// Noon UTC keeps every snapshot on the same calendar day in any time zone within ±11 hours.
const days = Array.from({ length: 40 }, (_, i) => ref(`d${String(i).padStart(2, '0')}`, new Date(Date.UTC(2024, 0, 1 + i, 12)).toISOString()));

test('keep-last, keep-daily and keep-monthly keep the newest of each period and nothing else', () => {
  const [group] = applyPolicy(days, { last: 2 });
  assert.deepEqual(group?.keep.map((k) => k.ref.id.slice(0, 3)), ['d39', 'd38']);
  assert.equal(group?.remove.length, 38);
  const [daily] = applyPolicy(days, { daily: 7 });
  assert.deepEqual(daily?.keep.map((k) => k.ref.id.slice(0, 3)), ['d39', 'd38', 'd37', 'd36', 'd35', 'd34', 'd33']);
  const [monthly] = applyPolicy(days, { monthly: 3 });
  // 2024-02-09 is the newest (February); the newest of January is 2024-01-31 (d30).
  assert.deepEqual(monthly?.keep.map((k) => k.ref.snapshot.time.slice(0, 10)), ['2024-02-09', '2024-01-31']);
  const [combined] = applyPolicy(days, { last: 1, daily: 2, weekly: 2 });
  const reasons = Object.fromEntries(combined?.keep.map((k) => [k.ref.snapshot.time.slice(0, 10), k.reasons.join('+')]) ?? []);
  assert.equal(reasons['2024-02-09'], 'last 1+daily 2024-02-09+weekly 2024-W06');
  assert.equal(reasons['2024-02-04'], 'weekly 2024-W05', 'the newest of the previous ISO week (Sunday)');
  assert.equal(Object.keys(reasons).length, 3);
});

test('several snapshots in one day count once for keep-daily; tags and groups are respected', () => {
  const sameDay = [
    ref('a1', '2024-03-01T08:00:00Z'), ref('a2', '2024-03-01T13:00:00Z'), ref('a3', '2024-03-02T12:00:00Z'),
    ref('b1', '2024-03-02T12:00:00Z', { host: 'other' }), ref('t1', '2024-02-01T12:00:00Z', { tags: ['keep'] }),
  ];
  const groups = applyPolicy(sameDay, { daily: 2, tags: ['keep'] });
  const mine = groups.find((g) => g.group.startsWith('host=h '));
  assert.deepEqual(mine?.keep.map((k) => k.ref.id.slice(0, 2)).sort(), ['a2', 'a3', 't1']);
  assert.deepEqual(mine?.remove.map((r) => r.id.slice(0, 2)), ['a1']);
  const other = groups.find((g) => g.group.startsWith('host=other'));
  assert.deepEqual(other?.keep.map((k) => k.ref.id.slice(0, 2)), ['b1']);
  const [within] = applyPolicy(days, { withinMs: 3 * 86_400_000 });
  assert.equal(within?.keep.length, 4);
});

test('forget with a policy, then prune: freed space matches, kept snapshots still restore', async (t) => {
  const r = await testRepo(t);
  const streams = [1, 2, 3, 4].map((i) => pseudoRandomBytes(1024 * 1024 + i, 100 + i));
  for (const [i, data] of streams.entries()) {
    ok(await r.run(['snapshot', '--stdin', 'db.sql', '--time', `2024-05-0${i + 1}T12:00:00Z`], { input: data }));
  }
  const dry = await r.run(['forget', '--keep-last', '2', '--dry-run', '--json']);
  assert.equal(json<{ removed: string[] }>(ok(dry)).removed.length, 2);
  assert.equal(json<unknown[]>(ok(await r.run(['snapshots', '--json']))).length, 4, 'dry run removed nothing');
  const before = json<{ bytesBefore: number }>(ok(await r.run(['prune', '--dry-run', '--json'])));
  const forget = json<{ removed: string[] }>(ok(await r.run(['forget', '--keep-last', '2', '--json'])));
  assert.equal(forget.removed.length, 2);
  const report = json<{ bytesBefore: number; bytesAfter: number; packsDeleted: number }>(ok(await r.run(['prune', '--json'])));
  assert.equal(report.bytesBefore, before.bytesBefore);
  const freed = report.bytesBefore - report.bytesAfter;
  assert.ok(freed >= 2 * 1024 * 1024 && freed < 2.2 * 1024 * 1024, `freed ${freed}`);
  ok(await r.run(['check', '--read-data']));
  const left = json<{ time: string }[]>(ok(await r.run(['snapshots', '--json'])));
  assert.deepEqual(left.map((s) => s.time.slice(0, 10)), ['2024-05-03', '2024-05-04']);
  assert.equal(sha256(ok(await r.run(['cat', 'latest:db.sql'])).stdout), sha256(streams[3] as Buffer));
  const again = json<{ packsDeleted: number; packsRepacked: number }>(ok(await r.run(['prune', '--json'])));
  assert.equal(again.packsDeleted + again.packsRepacked, 0, 'a second prune finds nothing');
  const none = await r.run(['forget']);
  assert.equal(none.status, 2, 'forget without ids or rules refuses to guess');
});

test('prune repacks mostly-unused packs and keeps what is still used', async (t) => {
  const r = await testRepo(t);
  // Two streams in one pack: forgetting one leaves a half-used pack that prune must repack.
  const keep = pseudoRandomBytes(1536 * 1024, 1);
  const drop = pseudoRandomBytes(1536 * 1024, 2);
  const keepFile = join(r.dir, 'keep.bin');
  await writeFile(keepFile, keep);
  const first = json<{ id: string }>(ok(await r.run(['snapshot', '--stdin', 'drop.bin', '--command', `keep.bin=cat ${keepFile}`, '--json'], { input: drop })));
  ok(await r.run(['snapshot', '--stdin', 'keep.bin', '--json'], { input: keep }));
  ok(await r.run(['forget', first.id]));
  const report = json<{ packsRepacked: number; packsWritten: number; bytesAfter: number }>(ok(await r.run(['prune', '--json'])));
  assert.ok(report.packsRepacked >= 1 && report.packsWritten >= 1, JSON.stringify(report));
  assert.ok(report.bytesAfter < 1.7 * 1024 * 1024, `after prune ${report.bytesAfter} bytes`);
  ok(await r.run(['check', '--read-data']));
  assert.equal(sha256(ok(await r.run(['cat', 'latest:keep.bin'])).stdout), sha256(keep));
});
