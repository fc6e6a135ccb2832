/**
 * Physical PostgreSQL snapshots in the repository against the live server on 127.0.0.1:5432: the tar
 * members of pg_basebackup are files of the snapshot under /postgres (taken while transfers keep
 * writing), `restore --pgdata` gives a 0700 data directory with its WAL, and a second postgres started
 * on it has the quiesced table identical and the transfer total unchanged; `cat --tar` re-emits a tar.
 */
import assert from 'node:assert/strict';
import { chmod, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { checkRestoredCopy, quietDigest, startPgTransfers, uniquePgDb, withClient } from './postgres-server.js';

const REPO = '-r repo -p pw';

test('snapshot --postgres under a write load, restore --pgdata: a second postgres starts on it with consistent data', async (t) => {
  const dir = await tempDir(t, 'sluice-pgrepo-');
  await chmod(dir, 0o755);
  const db = await uniquePgDb(t);
  const expected = await withClient(db, quietDigest);
  ok(await sh(`echo secret > pw && $SLUICE init ${REPO}`, { cwd: dir }), 'init');

  const refused = await sh(`$SLUICE snapshot ${REPO} --postgres --db-host 127.0.0.1 -u no_such_role_sluice`, { cwd: dir });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /no_such_role_sluice/);
  assert.match(refused.stderr, /no snapshot was written/);

  const load = await startPgTransfers(db);
  let out;
  try {
    while (load.committed() < 50) await new Promise((r) => setTimeout(r, 20));
    const before = load.committed();
    out = ok(await sh(`$SLUICE snapshot ${REPO} --postgres --db-host 127.0.0.1 -u postgres --json`, { cwd: dir, timeoutMs: 300_000 }), 'snapshot --postgres');
    assert.ok(load.committed() > before, 'the workload kept writing during the backup');
  } finally {
    await load.stop();
  }
  const snap = JSON.parse(out.stdout.toString()) as { id: string; paths: string[]; physical: { engine: string; backupType: string; startWal?: string; serverVersion?: string; toolVersion?: string } };
  assert.deepEqual(snap.paths, ['/postgres', '/physical.json']);
  assert.equal(snap.physical.engine, 'postgres');
  assert.match(snap.physical.startWal ?? '', /^[0-9A-F]+\/[0-9A-F]+ \(file [0-9A-F]{24}\)$/);
  assert.match(snap.physical.toolVersion ?? '', /pg_basebackup \(PostgreSQL\)/);
  const label = ok(await sh(`$SLUICE cat ${REPO} latest:/postgres/backup_label`, { cwd: dir })).stdout.toString();
  assert.ok(label.includes(`START WAL LOCATION: ${snap.physical.startWal}`), 'backup_label, a file of the snapshot, agrees with the description');

  const tarList = ok(await sh(`$SLUICE cat ${REPO} latest --tar | tar -tf -`, { cwd: dir }), 'cat --tar | tar -t').stdout.toString();
  assert.match(tarList, /^backup_label$/m);
  assert.match(tarList, /^pg_wal\/[0-9A-F]{24}$/m);

  const pgdata = join(dir, 'pgdata');
  ok(await sh(`$SLUICE restore ${REPO} latest --pgdata ${pgdata} --owner postgres:postgres`, { cwd: dir, timeoutMs: 300_000 }), 'restore --pgdata');
  assert.equal((await stat(pgdata)).mode & 0o777, 0o700);
  assert.ok((await readdir(join(pgdata, 'pg_wal'))).some((n) => /^[0-9A-F]{24}$/.test(n)), 'the WAL the copy needs is restored');
  const again = await sh(`$SLUICE restore ${REPO} latest --pgdata ${pgdata}`, { cwd: dir });
  assert.equal(again.status, 2, 'a non-empty data directory is refused');
  const wrongKind = await sh(`$SLUICE restore ${REPO} latest --datadir other --prepare`, { cwd: dir });
  assert.equal(wrongKind.status, 2, 'a PostgreSQL snapshot is not restored as a MariaDB datadir');

  await checkRestoredCopy(t, pgdata, join(dir, 'run'), db, expected);
});
