/**
 * Transient lock errors during `sluice load`: a second connection really deadlocks a loader
 * transaction (or makes it time out), and the load must still put every row in exactly once.
 *
 * The dump is data only, into a target table created beforehand, so the blocking connection can
 * hold a row of the table before the loader reaches it: it inserts (uncommitted) row X of the third
 * INSERT statement of a data file. The loader, having inserted X-1 just before, waits for X; the
 * blocker then asks for X-1 and closes the cycle. InnoDB rolls back the lighter transaction, and the
 * blocker has first inserted thousands of rows elsewhere, so the victim is the loader.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import type mysql from 'mysql2/promise';
import { ok, type RunResult, runSluice } from '../helpers/cli.js';
import { tempDir, type TestContextLike } from '../helpers/tmp.js';
import { checksums, type Conn, connect, CONN, sql, uniqueDb } from './db.js';

const ROWS = 600;

interface Dump {
  db: string;
  target: string;
  dir: string;
  /** The data file with the blocked row, its name as the loader reports it. */
  file: string;
  /** The row the blocker holds, and the statement number (as the loader counts) it is in. */
  x: number;
  statement: number;
  /** Rows of the file's first INSERT, which the loader runs on its own. */
  firstInsertRows: number;
}

/** Non-blank statements of a data file, cut like mydumper does (at ";\n"). */
function statementsOf(text: string): string[] {
  return text.split(';\n').filter((s) => s.trim() !== '' && s.trim() !== ';');
}

function idsOf(statement: string): number[] {
  return [...statement.matchAll(/^\((\d+),/gm)].map((m) => Number(m[1]));
}

async function makeDump(
  t: TestContextLike,
  options: { chunkRows: number; gzip?: boolean; lockWaitTimeout?: number },
): Promise<Dump> {
  const db = await uniqueDb(t, 'sllock');
  const target = `${db}_copy`;
  await sql(
    undefined,
    `CREATE DATABASE \`${db}\`; USE \`${db}\`;
     CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(120) NOT NULL) ENGINE=InnoDB;
     INSERT INTO t SELECT seq, CONCAT('row ', seq, ' ', REPEAT(CHAR(97 + seq % 26), 40 + seq % 37)) FROM seq_1_to_${ROWS};
     CREATE TABLE heavy (id INT PRIMARY KEY) ENGINE=InnoDB;
     CREATE DATABASE \`${target}\`;
     CREATE TABLE \`${target}\`.t LIKE t;`,
  );
  const dir = join(await tempDir(t), 'dump');
  const args = ['dump', ...CONN, '-T', `${db}.t`, '-o', dir, '-m', '-s', '1024', '-r', String(options.chunkRows), '-t', '1', '--quiet'];
  ok(await runSluice([...args, ...(options.gzip === true ? ['-c', 'gzip'] : [])]), 'dump');
  const files = (await readdir(dir)).filter((f) => /\.t\.\d+\.sql(\.gz)?$/.test(f)).sort();
  assert.ok(files.length >= 1, `data files in ${files.join(', ')}`);
  if (options.chunkRows > 0) assert.ok(files.length >= 2, `the table is cut into chunks: ${files.join(', ')}`);
  const file = files[files.length - 1] as string;
  const raw = await readFile(join(dir, file));
  let text = (options.gzip === true ? gunzipSync(raw) : raw).toString('latin1');
  if (options.lockWaitTimeout !== undefined) {
    assert.ok(options.gzip !== true);
    // The loader runs a data file's SET statements on its session: the timeout applies to its waits.
    text = text.replace(/^INSERT/m, `SET SESSION innodb_lock_wait_timeout = ${options.lockWaitTimeout};\nINSERT`);
    await writeFile(join(dir, file), text, 'latin1');
  }
  const statements = statementsOf(text);
  const inserts = statements.map((s, i) => ({ i, ids: idsOf(s) })).filter((s) => /^\s*INSERT/.test(statements[s.i] as string));
  assert.ok(inserts.length >= 4, `${file} has ${inserts.length} INSERT statements`);
  const third = inserts[2] as { i: number; ids: number[] };
  assert.ok(third.ids.length >= 3, `statement ${third.i + 1} has ${third.ids.length} rows`);
  return {
    db,
    target,
    dir,
    file,
    x: third.ids[2] as number,
    statement: third.i + 1,
    firstInsertRows: (inserts[0] as { ids: number[] }).ids.length,
  };
}

/**
 * Waits until a session using `db` has been running the statement with row `x` for a while: a
 * statement of ten rows takes microseconds, so it is waiting for the row. (information_schema's
 * INNODB_TRX did not always list the loader's waiting transaction here.) Fails if the load ends first.
 */
async function loaderWaiting(c: Conn, db: string, x: number, loading: Promise<RunResult>): Promise<void> {
  let ended: RunResult | undefined;
  void loading.then((r) => {
    ended = r;
  });
  const deadline = Date.now() + 30_000;
  let since: { id: string; at: number } | undefined;
  for (;;) {
    const [rows] = await c.query<mysql.RowDataPacket[]>(
      'SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE ?',
      [db, `%(${x},%`],
    );
    const id = rows[0] === undefined ? undefined : String(rows[0].ID);
    if (id === undefined) since = undefined;
    else if (since?.id !== id) since = { id, at: Date.now() };
    else if (Date.now() - since.at >= 300) return;
    if (ended !== undefined) throw new Error(`the load ended (${ended.status}) before waiting for the blocked row: ${ended.stderr}`);
    if (Date.now() > deadline) throw new Error('the loader never waited for the blocked row');
    await sleep(20);
  }
}

async function assertSameRows(d: Dump): Promise<void> {
  const q = 'SELECT COUNT(*) AS n, SUM(id) AS ids, SUM(CRC32(CONCAT(id, v))) AS crc FROM t';
  const [src, dst] = (await Promise.all([sql(d.db, q), sql(d.target, q)])) as Record<string, unknown>[][];
  assert.equal(String(dst?.[0]?.n), String(ROWS), 'row count');
  assert.deepEqual(dst?.[0], src?.[0], 'count and sums equal the source');
  const [a, b] = await Promise.all([checksums(d.db), checksums(d.target)]);
  assert.equal(b.t, a.t, 'CHECKSUM TABLE equals the source');
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const mode of [
  { name: 'transactions, gzip', q: '1000', gzip: true, unit: 'the transaction from statement \\d+' },
  { name: 'transactions', q: '1000', gzip: false, unit: 'the transaction from statement \\d+' },
  { name: 'autocommit', q: '0', gzip: false, unit: 'the statement' },
]) {
  test(`a deadlock victim is rolled back and replayed exactly once (${mode.name})`, async (t) => {
    const d = await makeDump(t, { chunkRows: 300, gzip: mode.gzip });
    const blocker = await connect(d.target);
    t.after(() => blocker.end());
    await blocker.query('START TRANSACTION');
    await blocker.query(`INSERT INTO \`${d.db}\`.heavy SELECT seq FROM seq_1_to_5000`);
    await blocker.query("INSERT INTO t VALUES (?, 'held by the blocker')", [d.x]);
    const loading = runSluice(['load', ...CONN, '-d', d.dir, '-B', d.target, '-t', '2', '-q', mode.q, '--quiet']);
    try {
      await loaderWaiting(blocker, d.target, d.x, loading);
      await blocker.query('SELECT id FROM t WHERE id = ? FOR UPDATE', [d.x - 1]).catch((err: Error) => {
        throw new Error(`the blocker, not the loader, was chosen as the deadlock victim: ${err.message}`);
      });
    } finally {
      await blocker.query('ROLLBACK');
    }
    const r = ok(await loading, 'load');
    const retry = new RegExp(
      `warning: deadlock loading file "${escape(d.file)}" at statement ${d.statement}: ${mode.unit} was rolled back; ` +
        'replaying it in \\d+ ms \\(attempt 2 of 5\\)',
    );
    assert.match(r.stderr, retry);
    assert.equal(r.stderr.match(/warning: deadlock/g)?.length, 1, r.stderr);
    await assertSameRows(d);
  });
}

test('a lock wait timeout rolls the whole transaction back before the replay', async (t) => {
  const d = await makeDump(t, { chunkRows: 0, lockWaitTimeout: 1 });
  const blocker = await connect(d.target);
  t.after(() => blocker.end());
  await blocker.query('START TRANSACTION');
  await blocker.query("INSERT INTO t VALUES (?, 'held by the blocker')", [d.x]);
  const loading = runSluice(['load', ...CONN, '-d', d.dir, '-B', d.target, '-t', '2', '--quiet']);
  try {
    await loaderWaiting(blocker, d.target, d.x, loading);
    // Past the loader's 1 s timeout: its first attempt fails, the replay gets the row once we let go.
    await sleep(1500);
  } finally {
    await blocker.query('ROLLBACK');
  }
  const r = ok(await loading, 'load');
  assert.match(
    r.stderr,
    new RegExp(`warning: lock wait timeout loading file "${escape(d.file)}" at statement ${d.statement}: the transaction from statement \\d+ was rolled back`),
  );
  await assertSameRows(d);
});

test('a lock that never goes away fails the load after 5 attempts, naming file and statement', async (t) => {
  const d = await makeDump(t, { chunkRows: 0, lockWaitTimeout: 1 });
  const blocker = await connect(d.target);
  t.after(() => blocker.end());
  await blocker.query('START TRANSACTION');
  await blocker.query("INSERT INTO t VALUES (?, 'held by the blocker')", [d.x]);
  let r;
  try {
    r = await runSluice(['load', ...CONN, '-d', d.dir, '-B', d.target, '-t', '2', '--quiet']);
  } finally {
    await blocker.query('ROLLBACK');
  }
  assert.equal(r.status, 1, r.stderr);
  for (let attempt = 2; attempt <= 5; attempt++) assert.match(r.stderr, new RegExp(`lock wait timeout .* \\(attempt ${attempt} of 5\\)`));
  assert.match(
    r.stderr,
    new RegExp(
      `error: loading file "${escape(d.file)}", statement ${d.statement}: lock wait timeout on all 5 attempts, giving up ` +
        '\\(the transaction from statement \\d+ was rolled back\\): Lock wait timeout exceeded',
    ),
  );
  // Only the first INSERT (run on its own) went in: nothing of the abandoned transaction stayed.
  const rows = (await sql(d.target, 'SELECT COUNT(*) AS n FROM t')) as { n: unknown }[];
  assert.equal(String(rows[0]?.n), String(d.firstInsertRows));
});
