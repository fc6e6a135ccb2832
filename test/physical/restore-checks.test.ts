/**
 * What prepare, copy-back and restore-pgdata refuse before any engine tool runs: a directory that is not
 * a backup, a backup that is not prepared, a checkpoints file that is not one, a cut or foreign tar.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes } from '../helpers/tree.js';

test('prepare and copy-back refuse what is not a (prepared) backup', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'empty'));
  const none = await sh('$SLUICE prepare empty', { cwd: dir });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no xtrabackup_checkpoints/);

  await mkdir(join(dir, 'raw'));
  await writeFile(join(dir, 'raw', 'xtrabackup_checkpoints'), 'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 4242\nlast_lsn = 4250\n');
  const unprepared = await sh('$SLUICE copy-back raw --datadir data', { cwd: dir });
  assert.equal(unprepared.status, 2);
  assert.match(unprepared.stderr, /not prepared \(backup_type = full-backuped\): run sluice prepare/);
  await assert.rejects(stat(join(dir, 'data')), 'nothing is created for a refused copy-back');

  await mkdir(join(dir, 'bad'));
  await writeFile(join(dir, 'bad', 'xtrabackup_checkpoints'), 'backup_type = full-prepared\nfrom_lsn = 0\nto_lsn = 12abc\n');
  const bad = await sh('$SLUICE copy-back bad --datadir data2', { cwd: dir });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /to_lsn is not a number.*xtrabackup_checkpoints/);
});

test('restore-pgdata refuses a cut tar and a tar without backup_label, and a non-empty target', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'src', 'base'), { recursive: true });
  await writeFile(join(dir, 'src', 'backup_label'), 'START WAL LOCATION: 0/2000028\n');
  await writeFile(join(dir, 'src', 'base', 'big'), pseudoRandomBytes(1 << 20, 5));
  ok(await sh('tar -cf full.tar -C src backup_label base && tar -cf nolabel.tar -C src base && cp full.tar cut.tar', { cwd: dir }));
  await truncate(join(dir, 'cut.tar'), 600 * 1024);
  const cut = await sh('$SLUICE restore-pgdata cut.tar --pgdata p1', { cwd: dir });
  assert.notEqual(cut.status, 0, 'a cut tar is refused');
  const foreign = await sh('$SLUICE restore-pgdata --pgdata p2 < nolabel.tar', { cwd: dir });
  assert.equal(foreign.status, 1);
  assert.match(foreign.stderr, /no backup_label/);
  ok(await sh('$SLUICE restore-pgdata --pgdata p3 < full.tar', { cwd: dir }), 'a whole tar from stdin');
  assert.deepEqual((await readdir(join(dir, 'p3'))).sort(), ['backup_label', 'base']);
  const again = await sh('$SLUICE restore-pgdata full.tar --pgdata p3', { cwd: dir });
  assert.equal(again.status, 2);
  assert.match(again.stderr, /not empty/);
});
