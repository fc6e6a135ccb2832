/**
 * Logical dump and load against the peers, same run, same server:
 *   dump:  sluice dump -t 2   vs  mydumper -t 2   vs  mysqldump --single-transaction
 *   load:  sluice load -t 2   vs  myloader -t 2   vs  mysql < dump.sql
 * Prints seconds (best and median of --repeat runs, tools interleaved) and ratios.
 *
 *   node dist/bench/mysql/dump-load.js [--size-mb 1024] [--repeat 1] [--threads 2] [--keep] [--work DIR]
 *
 * The data (~size-mb of SQL in three tables, one holding ~70%) is generated server-side in database
 * `sluice_bench`; --keep keeps it (and the dump directories) for the next run, which reuses it when
 * the size matches.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : def;
};
const SIZE_MB = Number(opt('size-mb', '1024'));
const REPEAT = Number(opt('repeat', '1'));
const THREADS = opt('threads', '2');
const KEEP = args.includes('--keep');
const WORK = opt('work', join(tmpdir(), 'sluice-bench-mysql'));
const DB = 'sluice_bench';
const CONN = ['-h', '127.0.0.1', '-P', '3306', '-u', 'root'];
const SLUICE = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

async function q(sql: string): Promise<unknown> {
  const c = await mysql.createConnection({ host: '127.0.0.1', user: 'root', multipleStatements: true });
  try {
    const [rows] = await c.query(sql);
    return rows;
  } finally {
    await c.end();
  }
}

/** Runs a command; resolves with wall seconds. stdout may go to a file, stdin may come from one. */
function timed(cmd: string, argv: string[], io: { stdoutFile?: string; stdinFile?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.length > 20000) err = err.slice(-10000);
    });
    if (io.stdoutFile !== undefined) child.stdout.pipe(createWriteStream(io.stdoutFile));
    else child.stdout.resume();
    if (io.stdinFile !== undefined) createReadStream(io.stdinFile, { highWaterMark: 1 << 20 }).pipe(child.stdin);
    else child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      else resolve((performance.now() - t0) / 1000);
    });
  });
}

async function generate(): Promise<void> {
  const marker = `size=${SIZE_MB}`;
  try {
    const rows = (await q(`SELECT note FROM ${DB}.bench_info`)) as { note: string }[];
    if (rows[0]?.note === marker) {
      console.log(`using existing ${DB} (${marker})`);
      return;
    }
  } catch {
    // not there yet
  }
  // Roughly: orders 165 B/row of SQL, customers 260 B/row, events 180 B/row.
  const orders = Math.round((SIZE_MB * 0.7 * 1e6) / 165);
  const customers = Math.round((SIZE_MB * 0.2 * 1e6) / 260);
  const events = Math.round((SIZE_MB * 0.1 * 1e6) / 180);
  console.log(`generating ${DB}: orders ${orders}, customers ${customers}, events ${events} rows …`);
  const t0 = performance.now();
  const batch = async (table: string, total: number, select: (from: number, to: number) => string): Promise<void> => {
    const step = 1_000_000;
    for (let a = 1; a <= total; a += step) {
      const b = Math.min(total, a + step - 1);
      await q(`INSERT INTO ${DB}.${table} ${select(a, b)}`);
    }
  };
  await q(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB};
    CREATE TABLE ${DB}.orders (id BIGINT NOT NULL PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(12,2) NOT NULL,
      status ENUM('new','paid','shipped','returned') NOT NULL, created DATETIME NOT NULL, note VARCHAR(200),
      ref VARBINARY(16), KEY k_customer (customer)) ENGINE=InnoDB;
    CREATE TABLE ${DB}.customers (id INT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, email VARCHAR(128) NOT NULL,
      country CHAR(2) NOT NULL, born DATE, bio TEXT) ENGINE=InnoDB;
    CREATE TABLE ${DB}.events (id INT NOT NULL PRIMARY KEY, kind VARCHAR(16) NOT NULL, data JSON, ts TIMESTAMP NULL) ENGINE=InnoDB;
    CREATE TABLE ${DB}.bench_info (note VARCHAR(64)) ENGINE=InnoDB;`);
  await batch('orders', orders, (a, b) =>
    `SELECT seq, seq * 7919 % ${Math.max(customers, 1)}, (seq % 100000) / 100, ELT(1 + seq % 4, 'new','paid','shipped','returned'),
       '2020-01-01' + INTERVAL (seq * 37) % 100000000 SECOND,
       IF(seq % 10 = 0, NULL, CONCAT('order ', seq, ' ', REPEAT(SUBSTR(MD5(seq), 1, 10), 1 + seq % 8), ' "q" ''s'' é')),
       UNHEX(SUBSTR(MD5(seq), 1, 32)) FROM ${DB}.seq_${a}_to_${b}`,
  );
  await batch('customers', customers, (a, b) =>
    `SELECT seq, CONCAT('Customer ', seq), CONCAT('c', seq, '@example.com'), ELT(1 + seq % 5, 'DE','FR','JP','US','BR'),
       '1950-01-01' + INTERVAL seq % 20000 DAY, CONCAT(REPEAT(MD5(seq * 3), 2 + seq % 4), '\\nline two ☃') FROM ${DB}.seq_${a}_to_${b}`,
  );
  await batch('events', events, (a, b) =>
    `SELECT seq, ELT(1 + seq % 3, 'click','view','buy'), JSON_OBJECT('n', seq, 'tag', SUBSTR(MD5(seq), 1, 12), 'ok', seq % 2 = 0),
       FROM_UNIXTIME(1600000000 + seq) FROM ${DB}.seq_${a}_to_${b}`,
  );
  await q(`INSERT INTO ${DB}.bench_info VALUES ('${marker}'); ANALYZE TABLE ${DB}.orders, ${DB}.customers, ${DB}.events;`);
  console.log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

interface Tool {
  name: string;
  run: (rep: number) => Promise<number>;
}

async function main(): Promise<void> {
  await generate();
  const sizes = (await q(
    `SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${DB}'`,
  )) as { b: string }[];
  console.log(`${DB}: ${(Number(sizes[0]?.b) / 1e6).toFixed(0)} MB on disk (InnoDB)`);
  await rm(WORK, { recursive: true, force: true });
  await mkdir(WORK, { recursive: true });
  const dir = (name: string, rep: number): string => join(WORK, `${name}-${rep}`);

  const dumps: Tool[] = [
    { name: `sluice dump -t ${THREADS}`, run: (r) => timed('node', [SLUICE, 'dump', ...CONN, '-B', DB, '-t', THREADS, '-o', dir('sluice', r), '--quiet']) },
    { name: `mydumper -t ${THREADS}`, run: (r) => timed('mydumper', [...CONN, '-B', DB, '-t', THREADS, '-o', dir('mydumper', r)]) },
    {
      name: 'mysqldump',
      run: (r) => timed('mysqldump', [...CONN, '--single-transaction', DB], { stdoutFile: `${dir('mysqldump', r)}.sql` }),
    },
  ];
  const loads: Tool[] = [
    { name: `sluice load -t ${THREADS}`, run: (r) => timed('node', [SLUICE, 'load', ...CONN, '-d', dir('sluice', r), '-B', `${DB}_l1`, '-t', THREADS, '--quiet']) },
    { name: `myloader -t ${THREADS}`, run: (r) => timed('myloader', [...CONN, '-d', dir('mydumper', r), '-B', `${DB}_l2`, '-t', THREADS]) },
    {
      name: 'mysql < dump.sql',
      run: (r) => timed('mariadb', [...CONN, '--database', `${DB}_l3`], { stdinFile: `${dir('mysqldump', r)}.sql` }),
    },
  ];

  const results = new Map<string, number[]>();
  const record = (name: string, s: number): void => {
    results.set(name, [...(results.get(name) ?? []), s]);
    console.log(`  ${name.padEnd(24)} ${s.toFixed(2)} s   (load average ${loadavg()[0]?.toFixed(1)})`);
  };
  for (let r = 0; r < REPEAT; r++) {
    console.log(`dump, run ${r + 1}/${REPEAT}`);
    const order = r % 2 === 0 ? dumps : [...dumps].reverse();
    for (const t of order) record(t.name, await t.run(r));
    console.log(`load, run ${r + 1}/${REPEAT}`);
    const lorder = r % 2 === 0 ? loads : [...loads].reverse();
    for (const t of lorder) {
      const target = t.name.startsWith('sluice') ? `${DB}_l1` : t.name.startsWith('myloader') ? `${DB}_l2` : `${DB}_l3`;
      await q(`DROP DATABASE IF EXISTS ${target}`);
      if (target.endsWith('_l3')) await q(`CREATE DATABASE ${target}`);
      record(t.name, await t.run(r));
      if (t.name.startsWith('sluice') && r === 0) await verify(target);
      await q(`DROP DATABASE IF EXISTS ${target}`);
    }
    if (!KEEP) await rm(join(WORK), { recursive: true, force: true }).then(() => mkdir(WORK, { recursive: true }));
  }

  const best = (name: string): number => Math.min(...(results.get(name) ?? [Number.NaN]));
  const median = (name: string): number => {
    const v = [...(results.get(name) ?? [])].sort((a, b) => a - b);
    return v[Math.floor((v.length - 1) / 2)] ?? Number.NaN;
  };
  console.log(`\nresults (${SIZE_MB} MB target, ${REPEAT} run(s); best / median seconds)`);
  for (const [group, tools] of [
    ['dump', dumps],
    ['load', loads],
  ] as [string, Tool[]][]) {
    const ours = tools[0] as Tool;
    for (const t of tools) {
      const ratio = t === ours ? '' : `   sluice/${t.name.split(' ')[0]} = ${(best(ours.name) / best(t.name)).toFixed(2)} (median ${(median(ours.name) / median(t.name)).toFixed(2)})`;
      console.log(`${group}  ${t.name.padEnd(24)} ${best(t.name).toFixed(2).padStart(8)} ${median(t.name).toFixed(2).padStart(8)}${ratio}`);
    }
  }
  if (!KEEP) {
    await rm(WORK, { recursive: true, force: true });
    await q(`DROP DATABASE IF EXISTS ${DB}`);
  }
}

async function verify(target: string): Promise<void> {
  for (const t of ['orders', 'customers', 'events']) {
    const rows = (await q(`CHECKSUM TABLE ${DB}.${t}, ${target}.${t}`)) as { Checksum: string }[];
    if (String(rows[0]?.Checksum) !== String(rows[1]?.Checksum)) throw new Error(`checksum of ${t} differs after sluice load`);
  }
  console.log('  (sluice copy verified with CHECKSUM TABLE)');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
