/**
 * `dump --compress zstd` compresses on zstd's own thread (nbWorkers 1, 1 MiB jobs) so the main thread keeps
 * formatting rows: its files, decoded by the stock `zstd -d`, are byte for byte the files of a plain dump,
 * with tables large enough for many zstd jobs per file.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, run, runSluice } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { CONN, sql, uniqueDb } from './db.js';

test('dump -c zstd decodes (zstd -d) to exactly the plain dump, file by file', async (t) => {
  const db = await uniqueDb(t);
  await sql(undefined, `CREATE DATABASE ${db}`);
  await sql(
    db,
    `CREATE TABLE sbtest (id INT PRIMARY KEY, k INT, c CHAR(120), pad CHAR(60));
     INSERT INTO sbtest SELECT seq, seq % 997, CONCAT_WS('-', MD5(seq), SHA1(seq), MD5(seq * 3)), SHA1(seq * 7) FROM seq_1_to_60000;
     CREATE TABLE blobs (id INT PRIMARY KEY, b MEDIUMBLOB);
     INSERT INTO blobs SELECT seq, RANDOM_BYTES(1000) FROM seq_1_to_3000;`,
  );
  const work = await tempDir(t);
  const dumps: Record<string, string> = { plain: join(work, 'plain'), zstd: join(work, 'zstd') };
  // One file per table: how many ranges a table is cut into follows InnoDB's sampled row estimate, so the
  // two dumps compare file by file only when neither is cut.
  const whole = ['-t', '2', '--rows', '100000000'];
  ok(await runSluice(['dump', ...CONN, '-B', db, '-o', dumps.plain as string, ...whole, '--quiet']), 'plain dump');
  ok(await runSluice(['dump', ...CONN, '-B', db, '-o', dumps.zstd as string, ...whole, '-c', 'zstd', '--quiet']), 'zstd dump');
  const plain = (await readdir(dumps.plain as string)).filter((f) => f !== 'metadata').sort();
  const packed = (await readdir(dumps.zstd as string)).filter((f) => f !== 'metadata').sort();
  assert.deepEqual(packed, plain.map((f) => `${f}.zst`), 'the same files, each with .zst');
  let bytes = 0;
  for (const name of plain) {
    const want = await readFile(join(dumps.plain as string, name));
    const got = ok(await run('zstd', ['-q', '-d', '-c', join(dumps.zstd as string, `${name}.zst`)]), `zstd -d ${name}.zst`).stdout;
    assert.ok(got.equals(want), `${name}: zstd -d of the compressed dump equals the plain dump`);
    bytes += want.length;
  }
  assert.ok(bytes > 12 << 20, `enough data for many 1 MiB zstd jobs (${bytes} bytes)`);
});
