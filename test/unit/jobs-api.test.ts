/**
 * The stream and MySQL jobs called as a library, in-process, through their barrels only: a backup
 * that is compressed and encrypted comes back byte for byte through extractStream, and a dump loads
 * into another database with the same rows.
 */
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { test } from 'node:test';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { dump, load, loadStream } from '../../src/jobs/mysql/index.js';
import { backupStream, createDecoder, extractStream, listStream, type StreamProgress, verifyStream } from '../../src/jobs/stream/index.js';
import { checksums, MYSQL, sql, uniqueDb } from '../mysql/db.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree, makeTree, pseudoRandomBytes, sha256 } from '../helpers/tree.js';

const TREE = {
  'big.bin': pseudoRandomBytes(5 * 1024 * 1024 + 17, 3),
  'zeros.bin': new Uint8Array(3 * 1024 * 1024),
  'empty.txt': '',
  'a/b/c/deep.txt': 'deep\n'.repeat(1000),
  'a/sibling.txt': 'sibling',
};

test('backupStream (zstd + age) to a file, then extractStream with a decoder: the same bytes come back', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await makeTree(src, TREE);
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);

  const streamFile = join(dir, 'backup.xbstream');
  const out = createWriteStream(streamFile);
  const stored: string[] = [];
  let last: StreamProgress | undefined;
  const sent = await backupStream({
    directory: src,
    output: out,
    checksum: true,
    encode: { compress: { algorithm: 'zstd', level: 3, threads: 2 }, encrypt: { recipients: [recipient] } },
    onFile: (path) => stored.push(path),
    onProgress: (p) => {
      last = p;
    },
  });
  out.end();
  await finished(out);
  assert.equal(sent.files, 5);
  assert.deepEqual(last, { bytes: sent.bytes, files: 5 }, 'the last progress report is the whole stream');
  assert.ok(stored.every((p) => p.endsWith('.zst.age')), `every file is stored compressed and encrypted: ${stored.join(', ')}`);

  const listed: string[] = [];
  await listStream({ input: createReadStream(streamFile), onFile: (f) => listed.push(f.path) });
  assert.deepEqual(listed.sort(), [...stored].sort());

  const decoder = await createDecoder({ decompress: true, decrypt: true, age: { identities: [identity] } });
  const verified = await verifyStream({ input: createReadStream(streamFile), decoder });
  assert.equal(verified.stream.sha256, sent.sha256, 'verify hashes the same bytes backupStream sent');
  assert.equal(verified.stream.files, 5);

  const target = join(dir, 'restored');
  await mkdir(target);
  const extracted = await extractStream({ input: createReadStream(streamFile), directory: target, decoder, parallel: 2 });
  assert.equal(extracted.files, 5);
  const restored = await describeTree(target);
  assert.deepEqual(
    restored.filter((i) => i.kind === 'file'),
    (await describeTree(src)).filter((i) => i.kind === 'file'),
  );
  const big = restored.find((i) => i.path === 'big.bin');
  assert.equal(big?.sha256, sha256(TREE['big.bin']));
});

async function fillSource(db: string): Promise<void> {
  await sql(undefined, `CREATE DATABASE \`${db}\``);
  await sql(
    db,
    'CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40), data BLOB, KEY by_name (name)) ENGINE=InnoDB;' +
      'CREATE TABLE empty_one (id INT PRIMARY KEY) ENGINE=InnoDB;' +
      'CREATE TABLE m (k VARCHAR(10), v DOUBLE) ENGINE=MyISAM;' +
      "INSERT INTO m VALUES ('x', 1.5), ('y', NULL), ('\\'q\\'', -0.25);",
  );
  const rows: string[] = [];
  for (let i = 1; i <= 3000; i++) rows.push(`(${i}, 'name ${i % 97} é', ${i % 5 === 0 ? 'NULL' : `UNHEX('${(i * 7919).toString(16).padStart(8, '0')}00ff')`})`);
  await sql(db, `INSERT INTO t VALUES ${rows.join(',')}`);
}

test('dump a database to a directory, load it into another: the same rows; and the same through dump --stream into loadStream', async (t) => {
  const source = await uniqueDb(t, 'jobsapi');
  const copy = `${source}_copy`;
  const streamed = `${source}_streamed`;
  await fillSource(source);
  const dir = await tempDir(t);
  const outputDir = join(dir, 'dump');
  const warnings: string[] = [];

  const dumped = await dump({ connection: MYSQL, outputDir, threads: 2, rows: 500, databases: [source], compress: 'zstd', onWarning: (m) => warnings.push(m) });
  assert.equal(dumped.outputDir, outputDir);
  assert.equal(dumped.tables, 3);
  assert.equal(dumped.rows, 3003);
  assert.equal(dumped.streamBytes, null);

  const loaded = await load({ connection: MYSQL, directory: outputDir, threads: 2, targetDatabase: copy, deferIndexes: true, onWarning: (m) => warnings.push(m) });
  assert.equal(loaded.tables, 3);
  assert.equal(loaded.rows, 3003);
  const want = await checksums(source);
  assert.deepEqual(Object.keys(want).sort(), ['empty_one', 'm', 't']);
  assert.deepEqual(await checksums(copy), want);
  assert.deepEqual(await sql(copy, "SHOW INDEX FROM t WHERE Key_name = 'by_name'").then((r) => (r as unknown[]).length), 1, 'the deferred index is back');

  // The same dump as a mydumper stream, loaded while it arrives.
  const pipe = new PassThrough();
  const [sentSummary, streamSummary] = await Promise.all([
    dump({ connection: MYSQL, threads: 2, databases: [source], stream: { mode: 'TRADITIONAL', output: pipe } }).finally(() => pipe.end()),
    loadStream({ connection: MYSQL, input: pipe, mode: 'TRADITIONAL', threads: 2, targetDatabase: streamed }),
  ]);
  assert.equal(sentSummary.outputDir, null, 'TRADITIONAL deletes the files once sent');
  assert.ok((sentSummary.streamBytes ?? 0) > 0);
  assert.equal(streamSummary.rows, 3003);
  assert.deepEqual(await checksums(streamed), want);
  assert.deepEqual(warnings, [], 'the MyISAM table is dumped under the read lock: no warning');
});

test('load names the directory it cannot read', async () => {
  await assert.rejects(load({ connection: MYSQL, directory: '/nonexistent/dump', threads: 1 }), /cannot read the dump directory \/nonexistent\/dump/);
});
