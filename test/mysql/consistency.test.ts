/**
 * Consistency: a writer commits transactions that each touch three tables while a 4-thread chunked
 * dump runs. In the loaded copy every transaction is all there or not there at all.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, runSluice } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { connect, CONN, sql, uniqueDb } from './db.js';

for (const lock of ['default', '--trx-consistency-only']) {
  test(`rows of a concurrent writer are all-or-nothing per transaction in the copy (${lock})`, async (t) => {
    const db = await uniqueDb(t, 'slcons');
    await sql(
      undefined,
      `CREATE DATABASE \`${db}\`; USE \`${db}\`;
       CREATE TABLE pad (id INT PRIMARY KEY, s VARCHAR(64)) ENGINE=InnoDB;
       INSERT INTO pad SELECT seq, REPEAT('p', 60) FROM seq_1_to_300000;
       CREATE TABLE ta (id INT PRIMARY KEY, txn INT NOT NULL) ENGINE=InnoDB;
       CREATE TABLE tb (id INT PRIMARY KEY, txn INT NOT NULL) ENGINE=InnoDB;
       INSERT INTO ta SELECT seq, -seq FROM seq_1_to_20000;
       INSERT INTO tb SELECT seq, -seq FROM seq_1_to_20000;
       CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB;
       INSERT INTO counter VALUES (1, 0);
       ANALYZE TABLE pad, ta, tb;`,
    );
    const writer = await connect(db);
    let committed = 0;
    let stop = false;
    const writing = (async () => {
      for (let i = 1; !stop; i++) {
        await writer.query('START TRANSACTION');
        await writer.query('INSERT INTO ta VALUES (?, ?)', [20000 + i, i]);
        await writer.query('INSERT INTO tb VALUES (?, ?)', [20000 + i, i]);
        await writer.query('UPDATE counter SET n = n + 1 WHERE id = 1');
        await writer.query('COMMIT');
        committed = i;
      }
    })();
    try {
      while (committed < 50) await new Promise((r) => setTimeout(r, 10));
      const out = join(await tempDir(t), 'd');
      const extra = lock === 'default' ? [] : [lock];
      ok(await runSluice(['dump', ...CONN, '-B', db, '-o', out, '-t', '4', '--rows', '2000', '--quiet', ...extra]), 'dump');
      const atEnd = committed;
      stop = true;
      await writing;
      const target = `${db}_copy`;
      ok(await runSluice(['load', ...CONN, '-d', out, '-B', target, '-t', '4', '--quiet']), 'load');
      const [a, b, c] = (await Promise.all([
        sql(target, 'SELECT txn FROM ta WHERE txn > 0 ORDER BY txn'),
        sql(target, 'SELECT txn FROM tb WHERE txn > 0 ORDER BY txn'),
        sql(target, 'SELECT n FROM counter'),
      ])) as { txn?: number; n?: number }[][];
      const ta = (a ?? []).map((r) => r.txn);
      const tb = (b ?? []).map((r) => r.txn);
      assert.deepEqual(ta, tb, 'both tables hold the same transactions');
      assert.equal(c?.[0]?.n, ta.length, 'the counter matches the number of transactions');
      assert.deepEqual(ta, Array.from({ length: ta.length }, (_, i) => i + 1), 'a prefix of the commit order');
      assert.ok(ta.length >= 50, `at least the transactions before the dump (${ta.length})`);
      assert.ok(ta.length < atEnd, `transactions after the snapshot are not in the copy (${ta.length} of ${atEnd})`);
      const pad = (await sql(target, 'SELECT COUNT(*) AS n FROM pad')) as { n: unknown }[];
      assert.equal(String(pad[0]?.n), '300000');
    } finally {
      stop = true;
      await writing.catch(() => undefined);
      await writer.end();
    }
  });
}
