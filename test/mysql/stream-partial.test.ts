/**
 * `load --stream --directory D` with a stream cut short: the load fails naming the file and offset,
 * and D holds no partial file (files that arrived whole may stay, byte for byte as sent).
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, runSluice } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { CONN, sql, uniqueDb } from './db.js';

interface SentFile {
  name: string;
  start: number;
  content: Buffer;
}

/** The files of a mydumper stream, found from its headers (`\n-- NAME SIZE\n`) and sizes. */
function filesOf(stream: Buffer): SentFile[] {
  const files: SentFile[] = [];
  let at = 0;
  while (at < stream.length) {
    const end = stream.indexOf(0x0a, at + 1);
    const header = /^\n-- (\S+) (\d+)$/.exec(stream.subarray(at, end).toString('latin1'));
    assert.ok(header !== null, `no header at ${at}`);
    const start = end + 1;
    const size = Number(header[2]);
    files.push({ name: header[1] as string, start, content: stream.subarray(start, start + size) });
    at = start + size;
  }
  return files;
}

test('a stream cut inside a file leaves no partial file in --directory, in NO_DELETE and TRADITIONAL modes', async (t) => {
  const db = await uniqueDb(t, 'slcut');
  await sql(
    undefined,
    `CREATE DATABASE \`${db}\`;
     CREATE TABLE \`${db}\`.a (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;
     INSERT INTO \`${db}\`.a SELECT seq, CONCAT('row ', seq) FROM \`${db}\`.seq_1_to_3000;
     CREATE TABLE \`${db}\`.b (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;
     INSERT INTO \`${db}\`.b SELECT seq, REPEAT('b', seq % 40) FROM \`${db}\`.seq_1_to_3000;`,
  );
  const work = await tempDir(t);
  const dumped = ok(await runSluice(['dump', ...CONN, '-B', db, '-t', '1', '--stream', '--quiet']), 'dump --stream');
  const whole = dumped.stdout;
  const files = filesOf(whole);
  assert.equal(files.at(-1)?.name, 'metadata');
  const data = files.filter((f) => /\.b\.\d+\.sql$/.test(f.name) || /\.b\.sql$/.test(f.name));
  const victim = data[0];
  assert.ok(victim !== undefined && victim.content.length > 1000, files.map((f) => `${f.name} ${f.content.length}`).join(', '));
  const before = files.filter((f) => f.start < victim.start);

  for (const [mode, cutAt] of [
    ['NO_DELETE', victim.start + Math.floor(victim.content.length / 2)],
    ['NO_DELETE', victim.start],
    ['TRADITIONAL', victim.start + Math.floor(victim.content.length / 2)],
  ] as const) {
    const input = join(work, `cut-${cutAt}.stream`);
    await writeFile(input, whole.subarray(0, cutAt));
    const dir = join(work, `into-${mode}-${cutAt}`);
    const target = `${db}_${mode === 'TRADITIONAL' ? 't' : 'n'}${cutAt - victim.start}`;
    const r = await runSluice(['load', ...CONN, `--stream=${mode}`, '-d', dir, '-B', target, '-t', '1', '--quiet'], { inputFile: input });
    assert.notEqual(r.status, 0, r.stderr);
    assert.ok(r.stderr.includes(`truncated inside file "${victim.name}"`), r.stderr);
    assert.ok(r.stderr.includes(`stream offset ${cutAt}`), r.stderr);
    const left = await readdir(dir);
    assert.ok(!left.includes(victim.name), `${mode}: the partial ${victim.name} was left in ${dir}`);
    assert.deepEqual(left.filter((n) => n.includes('partial')), [], `${mode}: temporary files were left`);
    // What stays is whole: in NO_DELETE every file before the cut, in TRADITIONAL those not loaded yet.
    if (mode === 'NO_DELETE') assert.deepEqual(left.sort(), before.map((f) => f.name).sort());
    for (const name of left) {
      const sent = files.find((f) => f.name === name);
      assert.ok(sent !== undefined && before.includes(sent), `${name} was not sent before the cut`);
      assert.ok((await readFile(join(dir, name))).equals(sent.content), `${name} differs from what was sent`);
    }
  }
});
