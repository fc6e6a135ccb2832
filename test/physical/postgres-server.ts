/**
 * Test helpers for physical PostgreSQL backups: a database with transfers between two tables (the total
 * is constant) and a quiesced table, a workload that keeps writing, and a second postgres the test owns,
 * started on a restored data directory on its own port and stopped after the test.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import type { TestContextLike } from '../helpers/tmp.js';

export const ACCOUNTS = 500;
export const START = 1000;

export function client(database: string, port = 5432, host = '127.0.0.1'): pg.Client {
  return new pg.Client({ host, port, user: 'postgres', database });
}

export async function withClient<T>(database: string, fn: (c: pg.Client) => Promise<T>, port = 5432): Promise<T> {
  const c = client(database, port);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function uniquePgDb(t: TestContextLike): Promise<string> {
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

export const quietDigest = (c: pg.Client): Promise<string> =>
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


/** Starts postgres as the postgres user on `pgdata` (given a minimal configuration), on a free port; stopped after the test. */
export async function startPostgres(t: TestContextLike, pgdata: string, runDir: string): Promise<number> {
  // Debian keeps the configuration outside the data directory: give the copy a minimal one
  const run = runDir;
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
  return port;
}

export interface PgWorkload {
  committed(): number;
  stop(): Promise<number>;
}

/** Transfers between acct_a and acct_b, one transaction each, until stopped. */
export async function startPgTransfers(db: string): Promise<PgWorkload> {
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
  return {
    committed: () => committed,
    stop: async () => {
      running = false;
      await loop;
      await load.end();
      return committed;
    },
  };
}

/**
 * Starts a postgres on a restored data directory and checks the copy: the quiesced table as before, and
 * the transfer invariant of the workload (every transfer all or nothing, those before the backup in it).
 */
export async function checkRestoredCopy(t: TestContextLike, pgdata: string, runDir: string, db: string, expectedDigest: string): Promise<void> {
  const port = await startPostgres(t, pgdata, runDir);
  await withClient(
    db,
    async (c) => {
      assert.equal(await quietDigest(c), expectedDigest, 'the quiesced table is identical');
      const r = await c.query('SELECT (SELECT sum(amount) FROM acct_a) AS a, (SELECT sum(amount) FROM acct_b) AS b');
      const row = r.rows[0] as { a: string; b: string };
      assert.equal(Number(row.a) + Number(row.b), 2 * ACCOUNTS * START, 'transfers are all or nothing in the restored copy');
      assert.ok(Number(row.a) < ACCOUNTS * START, 'transfers committed before the backup are in it');
    },
    port,
  );
}
