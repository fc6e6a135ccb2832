/**
 * `dump --compress zstd` compresses each file's one frame on a codec thread (one per dump connection), fed the
 * formatter's buffers, which come back for reuse only when the thread is done with them. On data like the
 * benchmarks' real set (text rows and incompressible BLOBs), with both connections busy at once: every
 * file passes the stock `zstd -t`, carries a frame checksum, and `zstd -d` gives byte for byte the file of a
 * plain dump; `sluice load` of the compressed dump gives the source's CHECKSUM TABLE.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, run, runSluice } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { checksums, CONN, sql, uniqueDb } from './db.js';

test('dump -c zstd decodes (zstd -d) to exactly the plain dump, file by file, and loads back', async (t) => {
  const db = await uniqueDb(t);
  await sql(undefined, `CREATE DATABASE ${db}`);
  await sql(
    db,
    `CREATE TABLE sbtest (id INT PRIMARY KEY, k INT, c CHAR(120), pad CHAR(60), KEY (k));
     INSERT INTO sbtest SELECT seq, seq % 997, CONCAT_WS('-', MD5(seq), SHA1(seq), MD5(seq * 3)), SHA1(seq * 7) FROM seq_1_to_60000;
     CREATE TABLE sbtest2 LIKE sbtest;
     INSERT INTO sbtest2 SELECT id, k + 1, REVERSE(c), pad FROM sbtest;
     CREATE TABLE blobs (id INT PRIMARY KEY, b MEDIUMBLOB);
     INSERT INTO blobs SELECT seq, CONCAT(RANDOM_BYTES(1024), RANDOM_BYTES(1024), RANDOM_BYTES(1024), RANDOM_BYTES(1024), RANDOM_BYTES(1024)) FROM seq_1_to_1500;
     CREATE TABLE small (id INT PRIMARY KEY, v VARCHAR(10));
     INSERT INTO small VALUES (1, 'a'), (2, NULL);`,
  );
  const source = await checksums(db);
  const work = await tempDir(t);
  const dumps: Record<string, string> = { plain: join(work, 'plain'), zstd: join(work, 'zstd'), zstd1: join(work, 'zstd1') };
  // One file per table: how many ranges a table is cut into follows InnoDB's sampled row estimate, so the
  // dumps compare file by file only when none is cut. Two connections: two files compress at once.
  const whole = ['-t', '2', '--rows', '100000000'];
  ok(await runSluice(['dump', ...CONN, '-B', db, '-o', dumps.plain as string, ...whole, '--quiet']), 'plain dump');
  ok(await runSluice(['dump', ...CONN, '-B', db, '-o', dumps.zstd as string, ...whole, '-c', 'zstd', '--quiet']), 'zstd dump');
  ok(
    await runSluice(['dump', ...CONN, '-B', db, '-o', dumps.zstd1 as string, ...whole, '-c', 'zstd', '--compress-level', '1', '--quiet']),
    'zstd -1 dump',
  );
  const plain = (await readdir(dumps.plain as string)).filter((f) => f !== 'metadata').sort();
  for (const name of ['zstd', 'zstd1']) {
    const dir = dumps[name] as string;
    const packed = (await readdir(dir)).filter((f) => f !== 'metadata').sort();
    assert.deepEqual(packed, plain.map((f) => `${f}.zst`), `${name}: the same files, each with .zst`);
    let bytes = 0;
    for (const file of plain) {
      const path = join(dir, `${file}.zst`);
      ok(await run('zstd', ['-q', '-t', path]), `zstd -t ${name}/${file}.zst`);
      const listed = ok(await run('zstd', ['-lv', path]), `zstd -lv ${file}.zst`).stdout.toString();
      assert.match(listed, /Check: XXH64/, `${name}/${file}.zst has a frame checksum`);
      assert.match(listed, /# Zstandard Frames: 1\b/, `${name}/${file}.zst is one frame`);
      const want = await readFile(join(dumps.plain as string, file));
      const got = ok(await run('zstd', ['-q', '-d', '-c', path]), `zstd -d ${file}.zst`).stdout;
      assert.ok(got.equals(want), `${name}/${file}: zstd -d of the compressed dump equals the plain dump`);
      bytes += want.length;
    }
    assert.ok(bytes > 24 << 20, `enough data for many 1 MiB pieces per file (${bytes} bytes)`);
  }
  const target = `${db}_loaded`;
  ok(await runSluice(['load', ...CONN, '-d', dumps.zstd as string, '-B', target, '-t', '2', '--quiet']), 'load the zstd dump');
  assert.deepEqual(await checksums(target), source, 'CHECKSUM TABLE of the loaded zstd dump');
});
