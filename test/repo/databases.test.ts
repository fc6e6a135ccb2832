/**
 * Real dumps: mysqldump of the MariaDB on 127.0.0.1:3306 and pg_dump of the PostgreSQL on 127.0.0.1:5432,
 * stored with --stdin-from-command, then restored with `sluice cat | mysql/psql` into fresh databases
 * whose content must equal the originals. Each test creates and drops its own uniquely named databases.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ok, run } from '../helpers/cli.js';
import { testRepo } from './helpers.js';

const MYSQL = ['-h', '127.0.0.1', '-P', '3306', '-u', 'root'];
const PG = ['-h', '127.0.0.1', '-p', '5432', '-U', 'postgres'];

async function mysql(sql: string, db?: string): Promise<string> {
  return ok(await run('mysql', [...MYSQL, '--batch', '--raw', ...(db === undefined ? [] : [db]), '-e', sql]), `mysql: ${sql.slice(0, 60)}`).stdout.toString();
}

async function psql(sql: string, db = 'postgres'): Promise<string> {
  return ok(await run('psql', [...PG, '-d', db, '-v', 'ON_ERROR_STOP=1', '-Atc', sql]), `psql: ${sql.slice(0, 60)}`).stdout.toString();
}

test('a real mysqldump of MariaDB, stored and restored into a fresh database with equal content', async (t) => {
  const suffix = randomBytes(4).toString('hex');
  const source = `sluice_src_${suffix}`;
  const target = `sluice_dst_${suffix}`;
  t.after(async () => {
    await mysql(`DROP DATABASE IF EXISTS ${source}; DROP DATABASE IF EXISTS ${target}`);
  });
  await mysql(`CREATE DATABASE ${source} CHARACTER SET utf8mb4`);
  await mysql(
    `CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(64), note TEXT, amount DECIMAL(10,2), payload BLOB, created DATETIME);
     CREATE TABLE empty_table (x INT);
     SET SESSION max_recursive_iterations = 10000;
     INSERT INTO orders
       WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 5000)
       SELECT n, CONCAT('customer-', n % 97), CONCAT('ünïcødé ✓ note ', REPEAT('x', n % 50), ' ''quoted'' \\\\ backslash'),
              n * 1.25, UNHEX(SHA2(n, 256)), '2024-01-01 00:00:00' + INTERVAL n MINUTE FROM seq;`,
    source,
  );
  const r = await testRepo(t);
  ok(await r.run(['snapshot', '--stdin-from-command', 'db.sql', '--tag', 'mysql', '--', 'mysqldump', ...MYSQL, '--single-transaction', '--hex-blob', source]));
  await mysql(`CREATE DATABASE ${target} CHARACTER SET utf8mb4`);
  ok(await r.sh(`$SLUICE cat latest:db.sql | mysql ${MYSQL.join(' ')} ${target}`), 'restore into mysql');
  const checksum = (db: string) => mysql('CHECKSUM TABLE orders, empty_table EXTENDED', db);
  const clean = (text: string, db: string) => text.replaceAll(`${db}.`, '');
  assert.equal(clean(await checksum(target), target), clean(await checksum(source), source));
  const count = await mysql('SELECT COUNT(*), SUM(amount), MD5(GROUP_CONCAT(note ORDER BY id)) FROM orders', target);
  assert.equal(count, await mysql('SELECT COUNT(*), SUM(amount), MD5(GROUP_CONCAT(note ORDER BY id)) FROM orders', source));
  assert.match(count, /^.*\n5000\t/);
});

test('a real pg_dump of PostgreSQL, stored and restored into a fresh database with equal content', async (t) => {
  const suffix = randomBytes(4).toString('hex');
  const source = `sluice_src_${suffix}`;
  const target = `sluice_dst_${suffix}`;
  t.after(async () => {
    await psql(`DROP DATABASE IF EXISTS ${source}`);
    await psql(`DROP DATABASE IF EXISTS ${target}`);
  });
  await psql(`CREATE DATABASE ${source}`);
  await psql(
    `CREATE TABLE items (id int PRIMARY KEY, name text, tags text[], data jsonb, blob bytea, at timestamptz);
     INSERT INTO items SELECT n, 'ünïcødé item ' || n || repeat(' ✓', n % 7), ARRAY['a' || n, 'b'],
            jsonb_build_object('n', n, 'half', n / 2.0), decode(md5(n::text), 'hex'), '2024-01-01'::timestamptz + n * interval '1 minute'
       FROM generate_series(1, 5000) AS n;
     CREATE VIEW big_items AS SELECT * FROM items WHERE id > 4000;`,
    source,
  );
  const r = await testRepo(t);
  ok(await r.run(['snapshot', '--stdin-from-command', 'pg.sql', '--tag', 'postgres', '--', 'pg_dump', ...PG, '--no-owner', source]));
  await psql(`CREATE DATABASE ${target}`);
  ok(await r.sh(`set -o pipefail; $SLUICE cat latest:pg.sql | psql ${PG.join(' ')} -d ${target} -v ON_ERROR_STOP=1 -q`), 'restore into postgres');
  const digest = `SELECT count(*), md5(string_agg(id || '|' || name || '|' || tags::text || '|' || data::text || '|' || encode(blob, 'hex') || '|' || at::text, ',' ORDER BY id)) FROM items`;
  assert.equal(await psql(digest, target), await psql(digest, source));
  assert.equal(await psql('SELECT count(*) FROM big_items', target), '1000\n');
});
