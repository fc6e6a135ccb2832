/**
 * Hot physical backups of the live MariaDB on 127.0.0.1:3306 while a workload keeps writing, restored into
 * a second mariadbd the test starts on its own port: the server starts, quiesced tables are identical,
 * the written ones keep their invariant, and the LSNs are the ones mariabackup reported.
 */
import assert from 'node:assert/strict';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, ONE_MARIABACKUP, sh } from '../helpers/cli.js';
import { type TestContextLike, tempDir } from '../helpers/tmp.js';
import { connect, uniqueDb } from '../mysql/db.js';
import { mysqlIds, startServer, startTransfers, tableState, TOTAL, ACCOUNTS, START_AMOUNT, createWorkloadDb } from './mariadb-server.js';

const CONN = '-h 127.0.0.1 -P 3306 -u root';

async function sourceState(db: string): Promise<Record<string, { checksum: string; rows: string }>> {
  const c = await connect(db);
  try {
    const query = async (sql: string): Promise<unknown> => (await c.query(sql))[0];
    return { quiet: await tableState(query, `\`${db}\`.quiet`), notes: await tableState(query, `\`${db}\`.notes`) };
  } finally {
    await c.end();
  }
}

function checkpointField(text: string, key: string): string {
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  assert.ok(line !== undefined, `${key} in xtrabackup_checkpoints`);
  return line.split('=')[1]?.trim() ?? '';
}

/** Backs up while transfers run; returns how many transfers were committed while mariabackup ran. */
async function backupUnderLoad(db: string, script: string, cwd: string): Promise<number> {
  const load = await startTransfers(db);
  try {
    while (load.committed() < 50) await new Promise((r) => setTimeout(r, 20));
    const before = load.committed();
    ok(await sh(script, { cwd, timeoutMs: 420_000 }), 'backup');
    return load.committed() - before;
  } finally {
    await load.stop();
  }
}

async function restoredChecks(t: TestContextLike, db: string, dir: string, datadir: string, expected: Record<string, { checksum: string; rows: string }>, toLsn: bigint): Promise<void> {
  const server = await startServer(t, datadir, join(dir, 'run'));
  const q = (sql: string): Promise<unknown> => server.query(sql);
  assert.deepEqual(await tableState(q, `\`${db}\`.quiet`), expected.quiet, 'quiesced InnoDB table');
  assert.deepEqual(await tableState(q, `\`${db}\`.notes`), expected.notes, 'quiesced Aria table');
  const [sums] = (await server.query(
    `SELECT (SELECT SUM(amount) FROM \`${db}\`.acct_a) AS a, (SELECT SUM(amount) FROM \`${db}\`.acct_b) AS b, (SELECT COUNT(*) FROM \`${db}\`.acct_a) AS n`,
  )) as { a: string; b: string; n: string }[];
  assert.ok(sums !== undefined);
  assert.equal(Number(sums.a) + Number(sums.b), TOTAL, 'the transfers are all or nothing in the restored copy');
  assert.equal(Number(sums.n), ACCOUNTS);
  assert.ok(Number(sums.a) < ACCOUNTS * START_AMOUNT, 'transfers committed before the backup are in it');
  const [status] = (await server.query('SHOW ENGINE INNODB STATUS')) as { Status: string }[];
  const lsn = /Log sequence number\s+(\d+)/.exec(status?.Status ?? '')?.[1];
  assert.ok(lsn !== undefined, 'the restored server reports its LSN');
  assert.ok(BigInt(lsn) >= toLsn, `restored server LSN ${lsn} >= backup to_lsn ${toLsn}`);
}

test('backup --mariadb under a write load: mbstream -x reads it, prepare + copy-back give a server that starts with consistent data', async (t) => {
  const dir = await tempDir(t, 'sluice-physical-');
  const db = await uniqueDb(t, 'phys');
  await createWorkloadDb(db, 16);
  const expected = await sourceState(db);

  const during = await backupUnderLoad(db, `${ONE_MARIABACKUP} timeout 90 $SLUICE backup --mariadb ${CONN} --stream -- "--databases=mysql ${db}" > full.xb`, dir);
  assert.ok(during > 0, `the workload kept writing during the backup (${during} transfers)`);

  ok(await sh('mkdir ext && mbstream -x -C ext < full.xb', { cwd: dir }), 'mbstream -x');
  const checkpoints = await readFile(join(dir, 'ext', 'xtrabackup_checkpoints'), 'utf8');
  assert.equal(checkpointField(checkpoints, 'backup_type'), 'full-backuped');
  assert.equal(checkpointField(checkpoints, 'from_lsn'), '0');
  const toLsn = BigInt(checkpointField(checkpoints, 'to_lsn'));
  assert.ok(toLsn > 0n);
  const info = await readFile(join(dir, 'ext', 'xtrabackup_info'), 'utf8');
  assert.match(info, new RegExp(`innodb_to_lsn = ${toLsn}\\n`), 'xtrabackup_info agrees with the checkpoints');
  assert.match(info, /tool_command = .*--databases=mysql /, 'arguments after -- reach mariabackup');

  const prepared = ok(await sh('$SLUICE prepare ext --json', { cwd: dir }), 'prepare');
  const report = JSON.parse(prepared.stdout.toString()) as { backupType: string; toLsn: string; fromLsn: string };
  assert.equal(report.backupType, 'log-applied');
  assert.equal(report.toLsn, String(toLsn));
  // a table created shortly before the backup arrives as quiet.new; prepare renames it
  assert.ok((await stat(join(dir, 'ext', db, 'quiet.ibd'))).size > 16 << 20);

  const [uid] = await mysqlIds();
  ok(await sh('chmod 755 . && $SLUICE copy-back ext --datadir data --owner mysql:mysql', { cwd: dir }), 'copy-back');
  assert.equal((await stat(join(dir, 'data', 'ibdata1'))).uid, uid, '--owner applies');
  const again = await sh('$SLUICE copy-back ext --datadir data', { cwd: dir });
  assert.equal(again.status, 2, 'a non-empty data directory is refused');
  assert.match(again.stderr, /not empty/);

  await restoredChecks(t, db, dir, join(dir, 'data'), expected, toLsn);

  // a stream cut short is refused at extraction, naming where it ends
  const size = (await stat(join(dir, 'full.xb'))).size;
  await truncate(join(dir, 'full.xb'), Math.floor(size / 2));
  const cut = await sh('mkdir cut && $SLUICE xbstream -x -C cut < full.xb', { cwd: dir });
  assert.notEqual(cut.status, 0);
  assert.match(cut.stderr, /truncated|ended|ends/i);
  assert.match(cut.stderr, /offset/);
});

test('backup --mariadb --compress --encrypt --parallel 2: meta files stay uncompressed, prepare --decompress --decrypt restores a working server', async (t) => {
  const dir = await tempDir(t, 'sluice-physical-');
  const db = await uniqueDb(t, 'phys');
  await createWorkloadDb(db, 8);
  const expected = await sourceState(db);
  ok(await sh('age-keygen -o key.txt 2>/dev/null && age-keygen -y key.txt > recipient.txt', { cwd: dir }));
  const recipient = (await readFile(join(dir, 'recipient.txt'), 'utf8')).trim();

  await backupUnderLoad(
    db,
    `${ONE_MARIABACKUP} timeout 90 $SLUICE backup --mariadb ${CONN} --stream --compress --compress-threads 2 --encrypt --recipient ${recipient} --parallel 2 -- "--databases=mysql ${db}" | $SLUICE xbstream -x -C ext`,
    dir,
  );
  const listing = ok(await sh('cd ext && find . -type f | sort', { cwd: dir })).stdout.toString();
  assert.match(listing, /\.\/xtrabackup_checkpoints\.age\n/, 'meta files are encrypted but not compressed');
  assert.match(listing, /\.\/backup-my\.cnf\.age\n/);
  assert.match(listing, /\.\/ibdata1\.zst\.age\n/, 'data files are compressed, then encrypted');
  assert.match(listing, new RegExp(`\\./${db}/quiet\\.(ibd|new)\\.zst\\.age\\n`));

  const refused = await sh('$SLUICE prepare ext', { cwd: dir });
  assert.equal(refused.status, 2, 'prepare refuses to run mariabackup on encoded files');
  assert.match(refused.stderr, /--decompress/);

  const prepared = ok(await sh('$SLUICE prepare ext --decompress --decrypt --identity key.txt --parallel 2 --json', { cwd: dir }), 'prepare');
  const report = JSON.parse(prepared.stdout.toString()) as { backupType: string; toLsn: string };
  assert.equal(report.backupType, 'log-applied');
  ok(await sh('chmod 755 . && $SLUICE copy-back ext --datadir data --owner mysql:mysql --move', { cwd: dir }), 'copy-back --move');
  await restoredChecks(t, db, dir, join(dir, 'data'), expected, BigInt(report.toLsn));
});

test('backup --mariadb with a wrong password fails with mariabackup\'s reason and a non-zero exit', async (t) => {
  const dir = await tempDir(t, 'sluice-physical-');
  const result = await sh(`$SLUICE backup --mariadb ${CONN} -p wrong-password --stream --log-file mb.log > out.xb`, { cwd: dir });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /mariabackup exited with status 1/);
  assert.match(result.stderr, /Access denied/);
  assert.match(await readFile(join(dir, 'mb.log'), 'utf8'), /Access denied/, 'the whole log is kept in --log-file');
  assert.doesNotMatch(await readFile(join(dir, 'mb.log'), 'utf8'), /wrong-password/, 'the password is not on mariabackup\'s command line');
});

test('backup --mariadb fails when mariabackup is killed part way, saying so', async (t) => {
  const dir = await tempDir(t, 'sluice-physical-');
  // a mariabackup that sends the first 2 MB of a real stream and is then killed
  await writeFile(join(dir, 'mariabackup'), '#!/bin/bash\n/usr/bin/mariabackup "$@" 2>/dev/null | head -c 2000000\nkill -KILL $$\n', { mode: 0o755 });
  const result = await sh(`$SLUICE backup --mariadb ${CONN} --stream --tmpdir . > out.xb`, { cwd: dir, env: { PATH: `${dir}:${process.env.PATH ?? ''}` } });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /mariabackup was killed by SIG(KILL|TERM)/);
});

test('into the repository as a named stream: a failing backup --mariadb leaves no snapshot, a good one is committed and mbstream reads it back', async (t) => {
  const dir = await tempDir(t, 'sluice-physical-');
  const db = await uniqueDb(t, 'phys');
  await createWorkloadDb(db, 1);
  const repo = '-r repo -p pw';
  ok(await sh(`echo secret > pw && $SLUICE init ${repo}`, { cwd: dir }), 'init');
  const bad = await sh(`$SLUICE snapshot ${repo} --stdin-from-command bad.xb -- $SLUICE backup --mariadb ${CONN} -p wrong --stream --tmpdir .`, { cwd: dir });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /no snapshot was written/);
  assert.match(bad.stderr, /Access denied/);
  const none = JSON.parse(ok(await sh(`$SLUICE snapshots ${repo} --json`, { cwd: dir })).stdout.toString()) as unknown[];
  assert.equal(none.length, 0, 'no snapshot for a failed backup');
  ok(await sh(`${ONE_MARIABACKUP} $SLUICE snapshot ${repo} --stdin-from-command full.xb -- timeout 90 $SLUICE backup --mariadb ${CONN} --stream --compress -- "--databases=mysql ${db}"`, { cwd: dir, timeoutMs: 420_000 }), 'snapshot');
  ok(await sh(`mkdir x && $SLUICE cat ${repo} latest:full.xb | mbstream -x -C x && test -f x/xtrabackup_checkpoints && test -f x/ibdata1.zst`, { cwd: dir }), 'cat | mbstream -x');
});

