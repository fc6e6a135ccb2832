/**
 * Test helpers for physical MariaDB backups: a database with a workload that keeps writing (transfers
 * between two tables, so the total is constant), and a second mariadbd the test owns, started on a
 * restored data directory with its own port and socket and stopped after the test.
 */
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { TestContextLike } from '../helpers/tmp.js';
import { connect } from '../mysql/db.js';

export const ACCOUNTS = 500;
export const START_AMOUNT = 1000;
export const TOTAL = 2 * ACCOUNTS * START_AMOUNT;

/** Creates `db` with two account tables (the written ones) and a quiesced table of about `staticMiB`. */
export async function createWorkloadDb(db: string, staticMiB: number): Promise<void> {
  const c = await connect();
  try {
    await c.query(`CREATE DATABASE \`${db}\``);
    await c.query(`USE \`${db}\``);
    for (const t of ['acct_a', 'acct_b']) {
      await c.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, amount BIGINT NOT NULL) ENGINE=InnoDB`);
      await c.query(`INSERT INTO ${t} SELECT seq, ${START_AMOUNT} FROM seq_1_to_${ACCOUNTS}`);
    }
    await c.query('CREATE TABLE quiet (id INT PRIMARY KEY, payload VARBINARY(1024) NOT NULL) ENGINE=InnoDB');
    // 1 KiB rows of pseudo-random hex
    await c.query(
      `INSERT INTO quiet SELECT seq, CONCAT(SHA2(seq, 512), SHA2(seq + 1, 512), SHA2(seq + 2, 512), SHA2(seq + 3, 512), SHA2(seq + 4, 512), SHA2(seq + 5, 512), SHA2(seq + 6, 512), SHA2(seq + 7, 512)) FROM seq_1_to_${staticMiB * 1024}`,
    );
    await c.query('CREATE TABLE notes (id INT PRIMARY KEY, note VARCHAR(100)) ENGINE=Aria');
    await c.query("INSERT INTO notes VALUES (1, 'aria'), (2, 'table')");
  } finally {
    await c.end();
  }
}

export interface Workload {
  /** Stops the loop; resolves with the number of transfers committed. */
  stop(): Promise<number>;
  committed(): number;
}

/** Transfers random amounts between acct_a and acct_b rows, one transaction each, until stopped. */
export async function startTransfers(db: string): Promise<Workload> {
  const c = await connect(db);
  let running = true;
  let committed = 0;
  let seed = 12345;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed % n) + 1;
  };
  const loop = (async () => {
    while (running) {
      const from = next(ACCOUNTS);
      const to = next(ACCOUNTS);
      const amount = next(50);
      await c.query('START TRANSACTION');
      await c.query('UPDATE acct_a SET amount = amount - ? WHERE id = ?', [amount, from]);
      await c.query('UPDATE acct_b SET amount = amount + ? WHERE id = ?', [amount, to]);
      await c.query('COMMIT');
      committed += 1;
    }
  })();
  return {
    committed: () => committed,
    stop: async () => {
      running = false;
      await loop;
      await c.end();
      return committed;
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  port: number;
  socket: string;
  query<T = mysql.RowDataPacket[]>(sql: string): Promise<T>;
}

/**
 * Starts mariadbd as the mysql user on `datadir` (which must belong to mysql), with grants skipped,
 * its own port and socket; waits until it answers; stops it (SIGTERM, then waits) after the test.
 */
export async function startServer(t: TestContextLike, datadir: string, runDir: string): Promise<TestServer> {
  await mkdir(runDir, { recursive: true });
  await chmod(runDir, 0o755);
  const [uid, gid] = await mysqlIds();
  await chown(runDir, uid, gid);
  const port = await freePort();
  const socket = join(runDir, 'mysqld.sock');
  const errorLog = join(runDir, 'error.log');
  const child = spawn(
    '/usr/sbin/mariadbd',
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket}`,
      `--pid-file=${join(runDir, 'mysqld.pid')}`,
      `--log-error=${errorLog}`,
      '--user=mysql',
      '--skip-grant-tables',
      '--innodb-buffer-pool-size=32M',
      '--skip-log-bin',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let conn: mysql.Connection | undefined;
  t.after(async () => {
    await conn?.end().catch(() => undefined);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}: ${await readFile(errorLog, 'utf8').catch(() => '')}`);
    try {
      conn = await mysql.createConnection({ socketPath: socket, user: 'root', supportBigNumbers: true, bigNumberStrings: true });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`mariadbd did not answer within 60 s: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const c = conn;
  return {
    port,
    socket,
    query: async <T>(sql: string) => (await c.query(sql))[0] as T,
  };
}

export async function mysqlIds(): Promise<[number, number]> {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('mysql:'));
  if (line === undefined) throw new Error('no mysql user in /etc/passwd');
  const parts = line.split(':');
  return [Number(parts[2]), Number(parts[3])];
}

/** CHECKSUM TABLE and row count of one table, through any query function. */
export async function tableState(query: (sql: string) => Promise<unknown>, table: string): Promise<{ checksum: string; rows: string }> {
  const [sum] = (await query(`CHECKSUM TABLE ${table}`)) as { Checksum: string | number }[];
  const [count] = (await query(`SELECT COUNT(*) AS n FROM ${table}`)) as { n: string | number }[];
  return { checksum: String(sum?.Checksum), rows: String(count?.n) };
}
