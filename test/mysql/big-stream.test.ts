/**
 * One table of more than a million rows (built server-side from the SEQUENCE engine), shared by
 * every case of this file: 1 and 4 threads, compressed and not, each --stream mode, and truncated
 * or corrupted streams, all checked with CHECKSUM TABLE.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ok, runSluice, sh, SLUICE_JS } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { checksums, CONN, sql, uniqueDb } from './db.js';

const ROWS = 1_100_000;
const C = CONN.join(' ');
let db = '';
let source: Record<string, string> = {};
const source_ = (): Record<string, string> => source;

// One database for the whole file, dropped (with every copy) after its last test.
const dropAtEnd: (() => unknown)[] = [];
after(async () => {
  for (const fn of dropAtEnd) await fn();
});

before(async () => {
  db = await uniqueDb({ after: (fn) => dropAtEnd.push(fn) }, 'slbig');
  await sql(
    undefined,
    `CREATE DATABASE \`${db}\`;
     CREATE TABLE \`${db}\`.big (id INT NOT NULL PRIMARY KEY, a INT NOT NULL, s VARCHAR(24), b VARBINARY(8), KEY ka (a)) ENGINE=InnoDB;
     INSERT INTO \`${db}\`.big SELECT seq, seq * 7919 % 100003, IF(seq % 97 = 0, NULL, CONCAT('r', seq, IF(seq % 5 = 0, '\\n;é', ''))),
       IF(seq % 11 = 0, NULL, UNHEX(LPAD(HEX(seq * 2654435761 % 4294967296), 8, '0'))) FROM \`${db}\`.seq_1_to_${ROWS};
     CREATE TABLE \`${db}\`.small (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;
     INSERT INTO \`${db}\`.small VALUES (1, 'one'), (2, 'two');
     ANALYZE TABLE \`${db}\`.big;`,
  );
  source = await checksums(db);
});

async function dropLater(t: { after(fn: () => unknown): void }, name: string): Promise<void> {
  t.after(() => sql(undefined, `DROP DATABASE IF EXISTS \`${name}\``));
}

test('a table of more than a million rows: directory dump and load with 1 and 4 threads, with and without compression', async (t) => {
  const work = await tempDir(t);
  const rows = await sql(db, 'SELECT COUNT(*) AS n FROM big') as { n: unknown }[];
  assert.equal(String(rows[0]?.n), String(ROWS));
  for (const [name, dumpArgs, loadArgs] of [
    ['t1', ['-t', '1'], ['-t', '1']],
    ['t4z', ['-t', '4', '-c', 'zstd', '--rows', '200000'], ['-t', '4', '--defer-indexes']],
  ] as [string, string[], string[]][]) {
    const out = join(work, name);
    const d = ok(await runSluice(['dump', ...CONN, '-B', db, '-o', out, '--json', ...dumpArgs]), `dump ${name}`);
    const summary = JSON.parse(d.stdout.toString()) as { rows: number; files: number };
    assert.equal(summary.rows, ROWS + 2);
    const files = await readdir(out);
    if (name === 't4z') {
      assert.ok(files.filter((f) => /^slbig_.*\.big\.\d{5}\.sql\.zst$/.test(f)).length >= 5, files.join(' '));
    }
    const target = `${db}_${name}`;
    await dropLater(t, target);
    ok(await runSluice(['load', ...CONN, '-d', out, '-B', target, '--quiet', ...loadArgs]), `load ${name}`);
    assert.deepEqual(await checksums(target), source, name);
  }
});

test('--stream TRADITIONAL and NO_DELETE: dump | load, nothing left behind', async (t) => {
  const work = await tempDir(t);
  // TRADITIONAL with an --outputdir that does not exist yet: it must not exist afterwards either.
  const outDir = join(work, 'spool');
  const target = `${db}_trad`;
  await dropLater(t, target);
  ok(
    await sh(`$SLUICE dump ${C} -B ${db} -t 4 -c gzip -o ${outDir} --stream --quiet | $SLUICE load ${C} --stream -t 4 -B ${target} --quiet`),
    'traditional',
  );
  assert.deepEqual(await checksums(target), source);
  await assert.rejects(stat(outDir));

  // NO_DELETE keeps the files on both sides.
  const keep = join(work, 'keep');
  const into = join(work, 'into');
  const target2 = `${db}_nodel`;
  await dropLater(t, target2);
  ok(
    await sh(
      `$SLUICE dump ${C} -B ${db} -t 2 -o ${keep} --stream=NO_DELETE --quiet | $SLUICE load ${C} --stream NO_DELETE -d ${into} -t 2 -B ${target2} --quiet`,
    ),
    'no-delete',
  );
  assert.deepEqual(await checksums(target2), source);
  const kept = (await readdir(keep)).sort();
  assert.ok(kept.includes('metadata') && kept.length >= 4, kept.join(' '));
  assert.deepEqual((await readdir(into)).sort(), kept);
});

test('--stream NO_STREAM_AND_NO_DELETE | load --stream=NO_STREAM shares one directory; dump NO_STREAM sends headers only', async (t) => {
  const work = await tempDir(t);
  const shared = join(work, 'shared');
  const target = `${db}_shared`;
  await dropLater(t, target);
  ok(
    await sh(
      `$SLUICE dump ${C} -B ${db} -t 2 -o ${shared} --stream=NO_STREAM_AND_NO_DELETE --quiet | $SLUICE load ${C} --stream=NO_STREAM -d ${shared} -t 2 -B ${target} --quiet`,
    ),
    'shared directory',
  );
  assert.deepEqual(await checksums(target), source);
  assert.deepEqual(await readdir(shared), [], 'the loader deletes each file it loaded');

  // The dump side of NO_STREAM: only `NAME 0` headers, and no file left.
  const only = join(work, 'only');
  const r = ok(await sh(`$SLUICE dump ${C} -B ${db} -T ${db}.small -o ${only} --stream=NO_STREAM --quiet`), 'no-stream');
  const text = r.stdout.toString();
  assert.match(text, /^\n-- .*-schema-create\.sql 0\n/);
  assert.match(text, /\n-- metadata 0\n$/);
  assert.equal(text.split('\n-- ').length - 1, 4);
  assert.deepEqual(await readdir(only).catch(() => []), []);
});

test('a truncated or corrupted stream is an error naming the file and offset, exit non-zero', async (t) => {
  const work = await tempDir(t);
  const streamFile = join(work, 'dump.stream');
  ok(await sh(`$SLUICE dump ${C} -B ${db} -t 2 --rows 300000 --stream --quiet > ${streamFile}`), 'dump to file');
  const whole = await readFile(streamFile);
  assert.ok(whole.subarray(0, 4).equals(Buffer.from('\n-- ')));

  // Cut in the middle of the data.
  const cut = join(work, 'cut.stream');
  await writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const target = `${db}_cut`;
  await dropLater(t, target);
  const r1 = await runSluice(['load', ...CONN, '--stream', '-B', target, '--quiet'], { inputFile: cut });
  assert.notEqual(r1.status, 0);
  assert.match(r1.stderr, /truncated inside file "slbig_[^"]+\.big\.\d+\.sql"/);
  assert.match(r1.stderr, /stream offset \d+/);

  // Cut exactly before the final metadata file: every file is whole, but the dump is incomplete.
  const noMeta = join(work, 'nometa.stream');
  await writeFile(noMeta, whole.subarray(0, whole.lastIndexOf(Buffer.from('\n-- metadata '))));
  const r2 = await runSluice(['load', ...CONN, '--stream', '-B', `${db}_nometa`, '--quiet'], { inputFile: noMeta });
  await dropLater(t, `${db}_nometa`);
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /without the final "metadata" file/);

  // A declared size changed by one byte.
  const header = /\n-- (slbig_[^ ]+\.big\.00000\.sql) (\d+)\n/.exec(whole.toString('latin1'));
  assert.ok(header !== null);
  const bad = Buffer.from(whole.toString('latin1').replace(header[0], `\n-- ${header[1]} ${Number(header[2]) + 1}\n`), 'latin1');
  const corrupt = join(work, 'corrupt.stream');
  await writeFile(corrupt, bad);
  const r3 = await runSluice(['load', ...CONN, '--stream', '-B', `${db}_bad`, '--quiet'], { inputFile: corrupt });
  await dropLater(t, `${db}_bad`);
  assert.notEqual(r3.status, 0);
  assert.match(r3.stderr, /expected a file header/);
  assert.match(r3.stderr, /\.big\.00000\.sql/);

  // A file name that tries to leave the directory.
  const evil = join(work, 'evil.stream');
  await writeFile(evil, Buffer.concat([Buffer.from('\n-- ../escape.sql 3\nabc'), whole.subarray(whole.lastIndexOf(Buffer.from('\n-- metadata ')))]));
  const r4 = await runSluice(['load', ...CONN, '--stream', '-d', join(work, 'in'), '-B', `${db}_evil`, '--quiet'], { inputFile: evil });
  assert.notEqual(r4.status, 0);
  assert.match(r4.stderr, /unsafe file name/);
  await assert.rejects(stat(join(work, 'escape.sql')));

  // The whole stream loads fine (the same file, for contrast).
  const target5 = `${db}_whole`;
  await dropLater(t, target5);
  ok(await runSluice(['load', ...CONN, '--stream', '-B', target5, '--quiet'], { inputFile: streamFile }), 'whole stream');
  assert.deepEqual(await checksums(target5), source);
});

test('load --stream loads tables while the stream is still arriving', async (t) => {
  const work = await tempDir(t);
  const streamFile = join(work, 'dump.stream');
  ok(await sh(`$SLUICE dump ${C} -B ${db} -t 2 --stream --quiet > ${streamFile}`), 'dump to file');
  const whole = await readFile(streamFile);
  const tail = whole.lastIndexOf(Buffer.from('\n-- metadata '));
  const target = `${db}_early`;
  await dropLater(t, target);
  // Everything but the final metadata file, then wait until rows are visible in the copy, then the rest.
  let rowsBeforeEnd = 0;
  const source = (async function* (): AsyncGenerator<Buffer> {
    yield whole.subarray(0, tail);
    for (let i = 0; i < 200 && rowsBeforeEnd === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const n = (await sql(undefined, `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${target}' AND TABLE_NAME = 'big'`)) as { n: unknown }[];
      if (String(n[0]?.n) === '1') {
        const r = (await sql(target, 'SELECT COUNT(*) AS n FROM big')) as { n: unknown }[];
        rowsBeforeEnd = Number(r[0]?.n);
      }
    }
    yield whole.subarray(tail);
  })();
  const child = spawn(process.execPath, [SLUICE_JS, 'load', ...CONN, '--stream', '-B', target, '-t', '2', '--quiet'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  await pipeline(Readable.from(source), child.stdin);
  assert.equal(await done, 0, stderr);
  assert.ok(rowsBeforeEnd > 0, 'rows were loaded before the stream ended');
  assert.deepEqual(await checksums(target), source_());
});

test('dump --stream refuses a terminal; load without --directory or --stream is a usage error', async () => {
  const r = await runSluice(['load', ...CONN]);
  assert.equal(r.status, 2);
  const r2 = await runSluice(['dump', ...CONN, '--stream=SOMETIMES']);
  assert.equal(r2.status, 2);
});
