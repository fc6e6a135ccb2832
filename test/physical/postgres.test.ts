/**
 * Hot physical backups of the live PostgreSQL on 127.0.0.1:5432 (pg_basebackup) while transfers keep
 * writing, restored with restore-pgdata into a data directory that a second postgres, owned by the test
 * and on its own port, starts on: quiesced table identical, the transfer total unchanged.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { checkRestoredCopy, quietDigest, startPgTransfers, uniquePgDb, withClient } from './postgres-server.js';

test('backup --postgres under a write load, restore-pgdata, and a second postgres starts on it with consistent data', async (t) => {
  const dir = await tempDir(t, 'sluice-pg-');
  await chmod(dir, 0o755);
  const db = await uniquePgDb(t);
  const expected = await withClient(db, quietDigest);

  const load = await startPgTransfers(db);
  let during: number;
  try {
    while (load.committed() < 50) await new Promise((r) => setTimeout(r, 20));
    const before = load.committed();
    ok(await sh('$SLUICE backup --postgres -h 127.0.0.1 -U postgres --stream=tar > base.tar', { cwd: dir }), 'backup --postgres');
    during = load.committed() - before;
  } finally {
    await load.stop();
  }
  assert.ok(during > 0, `the workload kept writing during the backup (${during} transfers)`);
  const listing = ok(await sh('tar -tf base.tar', { cwd: dir }), 'GNU tar reads the stream').stdout.toString();
  assert.match(listing, /^backup_label$/m);
  assert.match(listing, /^pg_wal\/[0-9A-F]{24}$/m, 'the WAL the copy needs is in the same tar');

  const pgdata = join(dir, 'pgdata');
  ok(await sh(`$SLUICE restore-pgdata base.tar --pgdata ${pgdata} --owner postgres:postgres`, { cwd: dir }), 'restore-pgdata');
  assert.equal((await stat(pgdata)).mode & 0o777, 0o700);
  const refused = await sh(`$SLUICE restore-pgdata base.tar --pgdata ${pgdata}`, { cwd: dir });
  assert.equal(refused.status, 2, 'a non-empty data directory is refused');

  await checkRestoredCopy(t, pgdata, join(dir, 'run'), db, expected);
  const label = await readFile(join(pgdata, 'backup_label'), 'utf8').catch(() => '');
  // postgres renames backup_label once recovery is done; its start WAL location was in the tar
  assert.equal(label, '', 'recovery consumed backup_label');
});

test('backup --postgres with a role that does not exist fails with pg_basebackup\'s reason', async (t) => {
  const dir = await tempDir(t, 'sluice-pg-');
  const result = await sh('$SLUICE backup --postgres -h 127.0.0.1 -U no_such_role_sluice --stream=tar > base.tar', { cwd: dir });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /pg_basebackup exited with status 1/);
  assert.match(result.stderr, /no_such_role_sluice/);
  const cut = await sh('$SLUICE restore-pgdata --pgdata out < /dev/null', { cwd: dir });
  assert.notEqual(cut.status, 0, 'an empty input is not a backup');
});
