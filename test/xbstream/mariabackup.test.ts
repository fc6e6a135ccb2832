/**
 * A real `mariabackup --backup --stream=xbstream` of the MariaDB server on 127.0.0.1:3306, extracted by
 * `sluice xbstream -x` and by `mbstream -x`: the trees must be identical, and `sluice verify` must pass.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, ONE_MARIABACKUP, runSluice, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree } from '../helpers/tree.js';

const MYSQL = 'mariadb -h 127.0.0.1 -u root';

test('a real mariabackup stream extracts to the same tree with sluice and mbstream', async (t) => {
  const db = `sluice_mb_${randomBytes(4).toString('hex')}`;
  t.after(() => sh(`${MYSQL} -e 'DROP DATABASE IF EXISTS ${db}'`));
  ok(
    await sh(`${MYSQL} -e "CREATE DATABASE ${db}; USE ${db};
      CREATE TABLE ${db}.inno (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB;
      INSERT INTO ${db}.inno SELECT seq, REPEAT('x', 80) FROM seq_1_to_20000;
      CREATE TABLE ${db}.aria (id INT PRIMARY KEY, v TEXT) ENGINE=Aria;
      INSERT INTO ${db}.aria SELECT seq, 'aria row' FROM seq_1_to_500;
      CREATE TABLE ${db}.isam (id INT PRIMARY KEY) ENGINE=MyISAM;
      INSERT INTO ${db}.isam SELECT seq FROM seq_1_to_100;
      CREATE TABLE ${db}.csv (id INT NOT NULL, v CHAR(10) NOT NULL) ENGINE=CSV;"`),
    'create test database',
  );
  const dir = await tempDir(t);
  const stream = join(dir, 'backup.xbstream');
  ok(
    await sh(
      `${ONE_MARIABACKUP} mariabackup --backup --stream=xbstream --databases='${db}' --target-dir=${dir}/work --user=root --host=127.0.0.1 > ${stream} 2> ${dir}/mariabackup.log`,
      { timeoutMs: 480_000 },
    ),
    'mariabackup --backup --stream=xbstream',
  );
  const ours = join(dir, 'ours');
  const theirs = join(dir, 'theirs');
  await mkdir(theirs);
  ok(await runSluice(['xbstream', '-x', '-C', ours, '--parallel=4'], { inputFile: stream }), 'sluice xbstream -x');
  await sh(`mbstream -x -C ${theirs} < ${stream}`);
  const expected = await describeTree(theirs);
  // A table created moments ago is sent as .new (MariaDB's DDL handling) rather than .ibd.
  assert.ok(expected.some((i) => i.path === `${db}/inno.frm`), 'the backup holds the test table');
  assert.ok(expected.some((i) => i.path === `${db}/inno.ibd` || i.path === `${db}/inno.new`), 'and its tablespace');
  assert.ok(expected.some((i) => i.path === 'xtrabackup_checkpoints'));
  assert.deepEqual(await describeTree(ours), expected);

  const verified = ok(await runSluice(['verify', '--json', stream]), 'sluice verify');
  const report = JSON.parse(verified.stdout.toString()) as { ok: boolean; files: { path: string; sha256: string }[] };
  assert.equal(report.ok, true);
  const byPath = new Map(expected.filter((i) => i.kind === 'file').map((i) => [i.path, i.sha256]));
  assert.equal(report.files.length, byPath.size);
  for (const f of report.files) assert.equal(f.sha256, byPath.get(f.path), f.path);
});
