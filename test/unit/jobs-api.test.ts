/**
 * The jobs called as a library, in-process, through their barrels and the package's entry point only: a
 * backup that is compressed and encrypted comes back byte for byte through extractStream, a dump loads
 * into another database with the same rows, a repository file is read back verified and found by name,
 * and a hot MariaDB backup goes into a snapshot and back out as a stream and a prepared data directory.
 */
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { test } from 'node:test';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { dump, load, loadStream } from '../../src/jobs/mysql/index.js';
import { backupStream, createDecoder, extractStream, listStream, type StreamProgress, verifyStream } from '../../src/jobs/stream/index.js';
import {
  catFile,
  catPhysical,
  checkForgetRequest,
  copyBack,
  findInSnapshots,
  historyOf,
  initRepository,
  openRepository,
  parseKinds,
  physicalSnapshot,
  prepareBackup,
  restorePhysical,
  snapshot,
  UsageError,
} from '../../src/index.js';
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

/** A Writable that keeps what it is given. */
function collector(): { stream: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      done();
    },
  });
  return { stream, bytes: () => Buffer.concat(parts) };
}

test('catFile reads a snapshot file back verified; findInSnapshots and historyOf see both versions, newest first', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await makeTree(src, { 'a.txt': 'one\n', 'b/c.log': 'log' });
  const location = join(dir, 'repo');
  await initRepository({ location, password: 'pw', kdf: { N: 1024, r: 8, p: 1 } });
  const opened = await openRepository({ location, password: 'pw', lock: 'shared' });
  try {
    const first = await snapshot(opened.repo, { paths: [src], time: new Date('2026-01-01T00:00:00Z') });
    const v2 = pseudoRandomBytes(3 * 1024 * 1024 + 5, 9);
    await writeFile(join(src, 'a.txt'), v2);
    const second = await snapshot(opened.repo, { paths: [src], time: new Date('2026-01-02T00:00:00Z') });

    const out = collector();
    const sent = await catFile(opened.repo, `latest:${src}/a.txt`, { output: out.stream, checksum: true });
    assert.equal(sent.bytes, v2.length);
    assert.equal(sent.sha256, sha256(v2));
    assert.ok(out.bytes().equals(v2), 'the newest version, byte for byte');
    const verified = await catFile(opened.repo, first.id.slice(0, 8), { path: `${src}/a.txt`, verifyOnly: true });
    assert.equal(verified.bytes, 4, 'verify-only reads the older version through and writes nothing');

    const found = [];
    for await (const m of findInSnapshots(opened.repo, { patterns: ['*.txt'], kinds: parseKinds(['file']) })) found.push([m.snapshot.id, m.path]);
    assert.deepEqual(found, [
      [second.id, `${src}/a.txt`],
      [first.id, `${src}/a.txt`],
    ]);
    const versions = [];
    for await (const v of historyOf(opened.repo, `${src}/a.txt`)) versions.push([v.snapshot.id, v.change]);
    assert.deepEqual(versions, [
      [second.id, 'changed'],
      [first.id, 'added'],
    ]);
    assert.throws(() => checkForgetRequest([], {}), UsageError, 'forget with neither ids nor rules is refused before anything is opened');
  } finally {
    await opened.close();
  }
});

/** A mariabackup that waits its turn (the shared server runs one backup at a time; see ONE_MARIABACKUP). */
async function queuedMariabackup(dir: string): Promise<string> {
  const program = join(dir, 'mariabackup-queued');
  await writeFile(program, '#!/bin/sh\nexec flock -w 300 /tmp/sluice-tests-mariabackup.lock mariabackup "$@"\n');
  await chmod(program, 0o755);
  return program;
}

test('physicalSnapshot of the live MariaDB, catPhysical as an xbstream, extract + prepareBackup + copyBack, and restorePhysical', { timeout: 600_000 }, async (t) => {
  const dir = await tempDir(t);
  const db = await uniqueDb(t, 'jobsphys');
  await sql(undefined, `CREATE DATABASE \`${db}\``);
  await sql(db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB; INSERT INTO t VALUES (1, 'one'), (2, 'two')");
  const program = await queuedMariabackup(dir);
  const location = join(dir, 'repo');
  await initRepository({ location, password: 'pw', kdf: { N: 1024, r: 8, p: 1 } });
  const opened = await openRepository({ location, password: 'pw', lock: 'shared' });
  try {
    const members: string[] = [];
    const saved = await physicalSnapshot(opened.repo, {
      engine: 'mariadb',
      mariadb: { connection: { host: MYSQL.host, port: MYSQL.port, user: MYSQL.user }, program, extraArgs: [`--databases=mysql ${db}`], temporaryParent: dir },
      tags: ['api'],
      onFile: (path) => members.push(path),
    });
    assert.equal(saved.metadata.engine, 'mariadb');
    assert.equal(saved.metadata.backupType, 'full-backuped');
    assert.ok(members.includes(`${db}/t.frm`) && members.includes('xtrabackup_checkpoints'), `the member files: ${members.filter((m) => !m.startsWith('mysql/')).join(', ')}`);
    assert.deepEqual(saved.snapshot.paths, ['/mariadb', '/physical.json']);

    // the members as a stream again: what mbstream -x and extractStream read
    const streamFile = join(dir, 'backup.xbstream');
    const out = createWriteStream(streamFile);
    const sent = await catPhysical(opened.repo, saved.id, { format: 'xbstream', output: out, checksum: true });
    out.end();
    await finished(out);
    const listed: string[] = [];
    await listStream({ input: createReadStream(streamFile), onFile: (f) => listed.push(f.path) });
    assert.ok(listed.includes(`${db}/t.frm`) && listed.includes('xtrabackup_checkpoints'), 'the member files are in the stream');
    assert.equal(new Set(listed).size, listed.length, 'each once');
    assert.equal(sent.sha256, sha256(await readFile(streamFile)));

    const extracted = join(dir, 'extracted');
    await mkdir(extracted);
    await extractStream({ input: createReadStream(streamFile), directory: extracted });
    const prepared = await prepareBackup({ directory: extracted, logFile: join(dir, 'prepare.log') });
    assert.equal(prepared.alreadyPrepared, false);
    assert.equal(prepared.checkpoints.backupType, 'log-applied');
    assert.equal(String(prepared.checkpoints.toLsn), saved.metadata.toLsn, 'prepared to the LSN the snapshot recorded');
    const again = await prepareBackup({ directory: extracted });
    assert.equal(again.alreadyPrepared, true, 'a prepared backup is not prepared twice');
    const datadir = join(dir, 'datadir');
    const copied = await copyBack({ directory: extracted, datadir });
    assert.equal(copied.backupType, 'log-applied');
    assert.ok((await readFile(join(datadir, db, 't.ibd'))).length > 0, 'the table is in the data directory');
    await assert.rejects(copyBack({ directory: extracted, datadir }), /is not empty/, 'a data directory that is not empty is refused');

    const restoredDir = join(dir, 'restored');
    const steps: string[] = [];
    const restored = await restorePhysical(opened.repo, 'latest', { engine: 'mariadb', directory: restoredDir, onStep: (m) => steps.push(m) });
    assert.deepEqual(restored.chain, [saved.id]);
    assert.equal(restored.toLsn, saved.metadata.toLsn);
    assert.ok(steps.some((s) => s.startsWith('mariabackup --prepare')), steps.join('; '));
    assert.ok((await readFile(join(restoredDir, db, 't.ibd'))).length > 0, 'the table is in the restored data directory');
  } finally {
    await opened.close();
  }
});
