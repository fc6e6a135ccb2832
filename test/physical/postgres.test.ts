/**
 * Hot physical backups of the live PostgreSQL on 127.0.0.1:5432 (pg_basebackup) while transfers keep
 * writing, restored with restore-pgdata into a data directory that a second postgres, owned by the test
 * and on its own port, starts on: quiesced table identical, the transfer total unchanged.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { ok, sh } from '../helpers/cli.js';
import { type TestContextLike, tempDir } from '../helpers/tmp.js';

const ACCOUNTS = 500;
const START = 1000;

function client(database: string, port = 5432, host = '127.0.0.1'): pg.Client {
  return new pg.Client({ host, port, user: 'postgres', database });
}

async function withClient<T>(database: string, fn: (c: pg.Client) => Promise<T>, port = 5432): Promise<T> {
  const c = client(database, port);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function uniquePgDb(t: TestContextLike): Promise<string> {
  const name = `phys_${process.pid}_${randomBytes(3).toString('hex')}`;
  await withClient('postgres', (c) => c.query(`CREATE DATABASE ${name}`));
  t.after(() => withClient('postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
  await withClient(name, async (c) => {
    await c.query('CREATE TABLE acct_a (id int PRIMARY KEY, amount bigint NOT NULL); CREATE TABLE acct_b (id int PRIMARY KEY, amount bigint NOT NULL)');
    await c.query(`INSERT INTO acct_a SELECT g, ${START} FROM generate_series(1, ${ACCOUNTS}) g; INSERT INTO acct_b SELECT g, ${START} FROM generate_series(1, ${ACCOUNTS}) g`);
    await c.query("CREATE TABLE quiet AS SELECT g AS id, repeat(md5(g::text), 30) AS payload FROM generate_series(1, 8000) g");
  });
  return name;
}

const quietDigest = (c: pg.Client): Promise<string> =>
  c.query("SELECT count(*) || ':' || md5(string_agg(id || payload, ',' ORDER BY id)) AS d FROM quiet").then((r) => String(r.rows[0].d));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      server.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

async function postgresBin(): Promise<string> {
  const { readdir } = await import('node:fs/promises');
  const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
  return `/usr/lib/postgresql/${versions[0]}/bin/postgres`;
}

test('backup --postgres under a write load, restore-pgdata, and a second postgres starts on it with consistent data', async (t) => {
  const dir = await tempDir(t, 'sluice-pg-');
  await chmod(dir, 0o755);
  const db = await uniquePgDb(t);
  const expected = await withClient(db, quietDigest);

  const load = client(db);
  await load.connect();
  let running = true;
  let committed = 0;
  const loop = (async () => {
    let i = 0;
    while (running) {
      i += 1;
      await load.query('BEGIN');
      await load.query('UPDATE acct_a SET amount = amount - $1 WHERE id = $2', [(i % 40) + 1, (i * 7) % ACCOUNTS + 1]);
      await load.query('UPDATE acct_b SET amount = amount + $1 WHERE id = $2', [(i % 40) + 1, (i * 13) % ACCOUNTS + 1]);
      await load.query('COMMIT');
      committed += 1;
    }
  })();
  let during: number;
  try {
    while (committed < 50) await new Promise((r) => setTimeout(r, 20));
    const before = committed;
    ok(await sh('$SLUICE backup --postgres -h 127.0.0.1 -U postgres --stream=tar > base.tar', { cwd: dir }), 'backup --postgres');
    during = committed - before;
  } finally {
    running = false;
    await loop;
    await load.end();
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

  // Debian keeps the configuration outside the data directory: give the copy a minimal one
  const run = join(dir, 'run');
  await mkdir(run);
  await writeFile(join(pgdata, 'postgresql.conf'), '');
  await writeFile(join(pgdata, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  const { uid, gid } = await stat(join(pgdata, 'PG_VERSION'));
  for (const p of [run, join(pgdata, 'postgresql.conf'), join(pgdata, 'pg_hba.conf')]) await chown(p, uid, gid);
  const port = await freePort();
  const logFile = join(run, 'log');
  const child = spawn('runuser', ['-u', 'postgres', '--', await postgresBin(), '-D', pgdata, '-p', String(port), '-k', run, '-c', 'listen_addresses=127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logParts: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => logParts.push(b));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await writeFile(logFile, Buffer.concat(logParts)).catch(() => undefined);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited ${child.exitCode}: ${Buffer.concat(logParts).toString()}`);
    try {
      await withClient('postgres', (c) => c.query('SELECT 1'), port);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`postgres did not answer: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await withClient(
    db,
    async (c) => {
      assert.equal(await quietDigest(c), expected, 'the quiesced table is identical');
      const r = await c.query('SELECT (SELECT sum(amount) FROM acct_a) AS a, (SELECT sum(amount) FROM acct_b) AS b');
      const row = r.rows[0] as { a: string; b: string };
      assert.equal(Number(row.a) + Number(row.b), 2 * ACCOUNTS * START, 'transfers are all or nothing in the restored copy');
      assert.ok(Number(row.a) < ACCOUNTS * START, 'transfers committed before the backup are in it');
    },
    port,
  );
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
