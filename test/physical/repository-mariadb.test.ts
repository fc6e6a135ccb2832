/**
 * Physical MariaDB snapshots in the repository, end to end against the live server on 127.0.0.1:3306:
 * a full and two incrementals taken while transfers keep writing, each member file a file of the
 * snapshot; the chain restored with --prepare into a fresh data directory that a second mariadbd starts
 * on, with quiesced tables identical and the transfer total unchanged; a failing mariabackup leaves no
 * snapshot; a chain with a forgotten link is refused before anything is written.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, ONE_MARIABACKUP, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { connect, uniqueDb } from '../mysql/db.js';
import { ACCOUNTS, createWorkloadDb, START_AMOUNT, startServer, startTransfers, tableState, TOTAL } from './mariadb-server.js';

const REPO = '-r repo -p pw';
const CONN = '--db-host 127.0.0.1 -P 3306 -u root';

interface Meta {
  engine: string;
  server: string;
  backupType: string;
  fromLsn: string;
  toLsn: string;
  base?: string;
  toolVersion?: string;
  serverVersion?: string;
}

test('snapshot --mariadb full + 2 --incremental under a write load, restore --datadir --prepare: a second mariadbd starts on it with consistent data', async (t) => {
  const dir = await tempDir(t, 'sluice-physrepo-');
  await chmod(dir, 0o755);
  const db = await uniqueDb(t, 'physrepo');
  await createWorkloadDb(db, 4);
  const c = await connect(db);
  t.after(() => c.end());
  await c.query('CREATE TABLE growing (id INT PRIMARY KEY, note VARCHAR(64)) ENGINE=InnoDB');
  ok(await sh(`echo secret > pw && $SLUICE init ${REPO}`, { cwd: dir }), 'init');

  // a failing mariabackup (wrong password) leaves no snapshot
  const bad = await sh(`echo wrong > dbpw && ${ONE_MARIABACKUP} $SLUICE snapshot ${REPO} --mariadb ${CONN} --db-password-file dbpw --tmpdir .`, { cwd: dir, timeoutMs: 400_000 });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /Access denied/);
  assert.match(bad.stderr, /no snapshot was written/);
  assert.equal((JSON.parse(ok(await sh(`$SLUICE snapshots ${REPO} --json`, { cwd: dir })).stdout.toString()) as unknown[]).length, 0);

  const snapshot = async (flags: string): Promise<{ id: string; physical: Meta }> => {
    const load = await startTransfers(db);
    try {
      while (load.committed() < 30) await new Promise((r) => setTimeout(r, 20));
      const before = load.committed();
      const out = ok(
        await sh(`${ONE_MARIABACKUP} $SLUICE snapshot ${REPO} --mariadb ${CONN} ${flags} --json -- "--databases=mysql ${db}"`, { cwd: dir, timeoutMs: 400_000 }),
        `snapshot ${flags}`,
      );
      assert.ok(load.committed() > before, 'the workload kept writing during the backup');
      return JSON.parse(out.stdout.toString()) as { id: string; physical: Meta };
    } finally {
      await load.stop();
    }
  };
  const grow = async (from: number, to: number): Promise<void> => {
    await c.query(`INSERT INTO growing SELECT seq, MD5(seq) FROM seq_${from}_to_${to}`);
  };

  await grow(1, 1000);
  const full = await snapshot('--tag nightly');
  assert.equal(full.physical.engine, 'mariadb');
  assert.equal(full.physical.server, '127.0.0.1:3306');
  assert.equal(full.physical.backupType, 'full-backuped');
  assert.equal(full.physical.fromLsn, '0');
  assert.match(full.physical.toolVersion ?? '', /MariaDB/);
  assert.match(full.physical.serverVersion ?? '', /MariaDB/);
  // the member files are files of the snapshot: the checkpoints file agrees with the description
  const checkpoints = ok(await sh(`$SLUICE cat ${REPO} ${full.id.slice(0, 8)}:/mariadb/xtrabackup_checkpoints`, { cwd: dir })).stdout.toString();
  assert.match(checkpoints, new RegExp(`^to_lsn = ${full.physical.toLsn}$`, 'm'));
  const listing = ok(await sh(`$SLUICE ls ${REPO} ${full.id.slice(0, 8)}`, { cwd: dir })).stdout.toString();
  assert.match(listing, /^\/mariadb\/ibdata1$/m);
  assert.match(listing, new RegExp(`^/mariadb/${db}/acct_a\\.(ibd|new)$`, 'm'));

  // the stored member files make an xbstream mbstream reads back
  ok(await sh(`mkdir x && $SLUICE cat ${REPO} ${full.id.slice(0, 8)} --xbstream | mbstream -x -C x`, { cwd: dir }), 'cat --xbstream | mbstream -x');
  assert.equal(await readFile(join(dir, 'x', 'xtrabackup_checkpoints'), 'utf8'), checkpoints);
  const ibdata = ok(await sh(`$SLUICE cat ${REPO} ${full.id.slice(0, 8)}:/mariadb/ibdata1 | sha256sum && sha256sum < x/ibdata1`, { cwd: dir })).stdout.toString().split('\n');
  assert.equal(ibdata[0], ibdata[1], 'ibdata1 re-emitted byte for byte');

  await grow(1001, 2000);
  const inc1 = await snapshot('--incremental');
  assert.equal(inc1.physical.backupType, 'incremental');
  assert.equal(inc1.physical.base, full.id);
  assert.equal(inc1.physical.fromLsn, full.physical.toLsn);
  await grow(2001, 3000);
  const inc2 = await snapshot('--incremental --tag nightly');
  assert.equal(inc2.physical.base, inc1.id);
  assert.equal(inc2.physical.fromLsn, inc1.physical.toLsn);

  const expected = {
    quiet: await tableState(async (sql) => (await c.query(sql))[0], 'quiet'),
    notes: await tableState(async (sql) => (await c.query(sql))[0], 'notes'),
    growing: await tableState(async (sql) => (await c.query(sql))[0], 'growing'),
  };
  assert.equal(expected.growing.rows, '3000');

  const data = join(dir, 'data');
  const restored = ok(await sh(`$SLUICE restore ${REPO} latest --datadir ${data} --prepare --owner mysql:mysql --json`, { cwd: dir, timeoutMs: 300_000 }), 'restore --prepare');
  const report = JSON.parse(restored.stdout.toString()) as { chain: string[]; toLsn: string };
  assert.deepEqual(report.chain, [full.id, inc1.id, inc2.id], 'the whole chain, oldest first');
  const again = await sh(`$SLUICE restore ${REPO} latest --datadir ${data} --prepare`, { cwd: dir });
  assert.equal(again.status, 2, 'a non-empty data directory is refused');
  assert.match(again.stderr, /not empty/);

  const server = await startServer(t, data, join(dir, 'run'));
  const q = (sql: string): Promise<unknown> => server.query(sql);
  assert.deepEqual(await tableState(q, `\`${db}\`.quiet`), expected.quiet, 'quiesced InnoDB table');
  assert.deepEqual(await tableState(q, `\`${db}\`.notes`), expected.notes, 'quiesced Aria table');
  assert.deepEqual(await tableState(q, `\`${db}\`.growing`), expected.growing, 'rows added before each incremental are all there');
  const [sums] = (await server.query(`SELECT (SELECT SUM(amount) FROM \`${db}\`.acct_a) AS a, (SELECT SUM(amount) FROM \`${db}\`.acct_b) AS b, (SELECT COUNT(*) FROM \`${db}\`.acct_a) AS n`)) as {
    a: string;
    b: string;
    n: string;
  }[];
  assert.ok(sums !== undefined);
  assert.equal(Number(sums.a) + Number(sums.b), TOTAL, 'the transfers are all or nothing in the restored copy');
  assert.equal(Number(sums.n), ACCOUNTS);
  assert.ok(Number(sums.a) < ACCOUNTS * START_AMOUNT, 'transfers committed before the backups are in it');
  const [status] = (await server.query('SHOW ENGINE INNODB STATUS')) as { Status: string }[];
  const lsn = /Log sequence number\s+(\d+)/.exec(status?.Status ?? '')?.[1];
  assert.ok(lsn !== undefined && BigInt(lsn) >= BigInt(inc2.physical.toLsn), `restored LSN ${lsn} >= the last incremental's to_lsn ${inc2.physical.toLsn}`);

  // a chain with a forgotten link is refused, and nothing is written
  ok(await sh(`$SLUICE forget ${REPO} ${inc1.id.slice(0, 8)}`, { cwd: dir }), 'forget the middle link');
  const broken = await sh(`$SLUICE restore ${REPO} latest --datadir data2 --prepare`, { cwd: dir });
  assert.equal(broken.status === 0, false);
  assert.match(broken.stderr, /broken chain/);
  assert.match(broken.stderr, new RegExp(inc1.id.slice(0, 8)));
  assert.equal(await stat(join(dir, 'data2')).catch(() => undefined), undefined, 'nothing was written for a broken chain');
  // the full alone still restores (its own chain is whole)
  const alone = ok(await sh(`$SLUICE restore ${REPO} ${full.id.slice(0, 8)} --datadir data3 --prepare --json`, { cwd: dir, timeoutMs: 300_000 }), 'restore the full alone');
  assert.deepEqual((JSON.parse(alone.stdout.toString()) as { chain: string[] }).chain, [full.id]);
});

test('snapshot --mariadb: a mariabackup killed part way leaves no snapshot, and --incremental without a full is refused', async (t) => {
  const dir = await tempDir(t, 'sluice-physrepo-');
  ok(await sh(`echo secret > pw && $SLUICE init ${REPO}`, { cwd: dir }), 'init');
  const none = await sh(`$SLUICE snapshot ${REPO} --mariadb ${CONN} --incremental`, { cwd: dir });
  assert.equal(none.status === 0, false);
  assert.match(none.stderr, /no physical snapshot of 127\.0\.0\.1:3306/);
  // a mariabackup that sends the first 3 MB of a real stream and is then killed
  await writeFile(join(dir, 'mariabackup'), '#!/bin/bash\n/usr/bin/mariabackup "$@" 2>/dev/null | head -c 3000000\nkill -KILL $$\n', { mode: 0o755 });
  const killed = await sh(`${ONE_MARIABACKUP} $SLUICE snapshot ${REPO} --mariadb ${CONN} --tmpdir . -- --databases=mysql`, {
    cwd: dir,
    env: { PATH: `${dir}:${process.env.PATH ?? ''}` },
    timeoutMs: 400_000,
  });
  assert.notEqual(killed.status, 0);
  assert.match(killed.stderr, /mariabackup was killed by SIG(KILL|TERM)/);
  assert.match(killed.stderr, /no snapshot was written/);
  assert.equal((JSON.parse(ok(await sh(`$SLUICE snapshots ${REPO} --json`, { cwd: dir })).stdout.toString()) as unknown[]).length, 0);
  ok(await sh(`$SLUICE check ${REPO}`, { cwd: dir }), 'the repository is sound after the failed run');
});
