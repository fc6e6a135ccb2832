/** The mydumper stream container: framing, every chunking, and hostile input. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import {
  checkStreamFileName,
  decodeHeaderLine,
  encodeHeader,
  MydumperStreamWriter,
  parseStreamMode,
  readMydumperStream,
} from '../../src/container/mydumper-stream/index.js';
import { classifyDumpFile, dataFileName, decodeNamePart, encodeNamePart } from '../../src/container/mydumper-stream/layout.js';
import { FormatError, SluiceError, UnsafePathError } from '../../src/errors.js';
import { pseudoRandomBytes } from '../helpers/tree.js';

/** Frames built by hand (not by our writer). */
function frame(name: string, content: Uint8Array | string, size?: number): Buffer {
  const body = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
  return Buffer.concat([Buffer.from(`\n-- ${name} ${size ?? body.length}\n`), body]);
}

async function* chunked(data: Buffer, sizes: number[] | number): AsyncGenerator<Uint8Array> {
  let pos = 0;
  let i = 0;
  while (pos < data.length) {
    const n = typeof sizes === 'number' ? sizes : (sizes[i++ % sizes.length] as number);
    yield data.subarray(pos, pos + n);
    pos += n;
  }
}

async function readAll(source: AsyncIterable<Uint8Array>, expectContent = true): Promise<{ name: string; data: Buffer }[]> {
  const out: { name: string; data: Buffer }[] = [];
  for await (const f of readMydumperStream(source, { expectContent })) {
    const parts: Buffer[] = [];
    for await (const p of f.content) parts.push(Buffer.from(p));
    out.push({ name: f.name, data: Buffer.concat(parts) });
  }
  return out;
}

const binary = pseudoRandomBytes(5000, 7);
// Content that contains what looks like headers must not confuse a size-driven reader.
const tricky = '\n-- metadata 5\nhello\n-- db.t.00000.sql 3\n';
const sample = Buffer.concat([
  frame('db-schema-create.sql', 'CREATE DATABASE `db`;\n'),
  frame('db.t-schema.sql', tricky),
  frame('db.t.00000.sql.zst', binary),
  frame('empty.sql', ''),
  frame('metadata', '# done\n'),
]);

test('reads every file with its exact bytes, whole, byte by byte and at odd chunkings', async () => {
  for (const sizes of [sample.length, 1, 2, 3, 7, 4096, [1, 100, 3, 9999]]) {
    const files = await readAll(chunked(sample, sizes));
    assert.deepEqual(
      files.map((f) => f.name),
      ['db-schema-create.sql', 'db.t-schema.sql', 'db.t.00000.sql.zst', 'empty.sql', 'metadata'],
    );
    assert.equal(files[1]?.data.toString(), tricky);
    assert.ok(files[2]?.data.equals(binary));
    assert.equal(files[3]?.data.length, 0);
  }
});

test('writer output is read back identically, and equals hand-built frames', async () => {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  const w = new MydumperStreamWriter(out);
  async function* one(b: Uint8Array): AsyncGenerator<Uint8Array> {
    yield b;
  }
  await w.writeFile('db-schema-create.sql', 22, one(Buffer.from('CREATE DATABASE `db`;\n')));
  await w.writeFile('db.t-schema.sql', Buffer.byteLength(tricky), one(Buffer.from(tricky)));
  await w.writeFile('db.t.00000.sql.zst', binary.length, chunked(binary, 333));
  await w.writeFile('empty.sql', 0, one(new Uint8Array(0)));
  await w.writeFile('metadata', 7, one(Buffer.from('# done\n')));
  await w.end();
  assert.ok(Buffer.concat(parts).equals(sample));
});

test('the writer refuses content that does not match the announced size', async () => {
  const out = new PassThrough();
  out.resume();
  const w = new MydumperStreamWriter(out);
  async function* one(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('abc');
  }
  await assert.rejects(w.writeFile('a.sql', 4, one()), (e: unknown) => e instanceof SluiceError && /announced with 4/.test(e.message));
});

test('a stream cut inside a file names the file and the offset', async () => {
  const cut = sample.subarray(0, sample.indexOf(Buffer.from('db.t.00000.sql.zst')) + 500);
  await assert.rejects(readAll(chunked(cut, 100)), (e: unknown) => {
    assert.ok(e instanceof FormatError);
    assert.equal(e.code, 'E_TRUNCATED');
    assert.match(e.message, /db\.t\.00000\.sql\.zst/);
    assert.match(e.message, /stream offset \d+/);
    return true;
  });
});

test('a stream that ends between files without metadata is incomplete', async () => {
  const cut = sample.subarray(0, sample.lastIndexOf(Buffer.from('\n-- metadata ')));
  await assert.rejects(readAll(chunked(cut, 64)), (e: unknown) => e instanceof FormatError && e.code === 'E_INCOMPLETE' && /empty\.sql/.test(e.message));
  await assert.rejects(readAll(chunked(Buffer.alloc(0), 1)), (e: unknown) => e instanceof FormatError && e.code === 'E_EMPTY');
});

test('a wrong declared size is caught at the next header', async () => {
  // One byte more declared than sent: the next header is misread.
  const bad = Buffer.concat([frame('a.sql', 'abcd', 5), frame('metadata', 'x')]);
  await assert.rejects(readAll(chunked(bad, 3)), (e: unknown) => e instanceof FormatError && e.code === 'E_BAD_HEADER' && /a\.sql/.test(e.message));
  // One byte less: the leftover byte is not a header.
  const bad2 = Buffer.concat([frame('a.sql', 'abcd', 3), frame('metadata', 'x')]);
  await assert.rejects(readAll(chunked(bad2, 3)), (e: unknown) => e instanceof FormatError && e.code === 'E_BAD_HEADER');
});

test('bytes after metadata, duplicates, bad sizes and garbage are errors', async () => {
  const after = Buffer.concat([frame('metadata', 'x'), frame('more.sql', 'y')]);
  await assert.rejects(readAll(chunked(after, 5)), (e: unknown) => e instanceof FormatError && e.code === 'E_AFTER_END');
  const dup = Buffer.concat([frame('a.sql', 'x'), frame('a.sql', 'y'), frame('metadata', 'z')]);
  await assert.rejects(readAll(chunked(dup, 5)), (e: unknown) => e instanceof FormatError && e.code === 'E_DUPLICATE');
  for (const header of ['\n-- a.sql -1\n', '\n-- a.sql 1e3\n', '\n-- a.sql\n', '\n-- a.sql 99999999999999999999\n', 'garbage']) {
    await assert.rejects(readAll(chunked(Buffer.from(header), 4)), (e: unknown) => e instanceof FormatError, header);
  }
  const long = Buffer.from(`\n-- ${'a'.repeat(5000)} 1\n`);
  await assert.rejects(readAll(chunked(long, 100)), (e: unknown) => e instanceof FormatError && /longer than/.test(e.message));
});

test('file names from the stream must be safe basenames', async () => {
  for (const name of ['../etc/passwd', 'a/b.sql', '..', '.', 'x\0y', 'a\\b', 'sub/..', 'a..b']) {
    assert.throws(() => checkStreamFileName(name), UnsafePathError, name);
  }
  const evil = Buffer.concat([frame('../evil.sql', 'x'), frame('metadata', 'z')]);
  await assert.rejects(readAll(chunked(evil, 7)), (e: unknown) => e instanceof UnsafePathError);
  assert.equal(checkStreamFileName('db.t.00000.sql.gz'), 'db.t.00000.sql.gz');
  // A name with spaces: the size is the last token.
  assert.deepEqual(decodeHeaderLine(Buffer.from('my file.sql 12'), 0), { name: 'my file.sql', size: 12 });
  assert.equal(Buffer.from(encodeHeader('a.sql', 3)).toString(), '\n-- a.sql 3\n');
});

test('NO_STREAM readers accept only size-0 headers', async () => {
  const headers = Buffer.from('\n-- a.sql 0\n\n-- metadata 0\n');
  const files = await readAll(chunked(headers, 3), false);
  assert.deepEqual(
    files.map((f) => f.name),
    ['a.sql', 'metadata'],
  );
  await assert.rejects(readAll(chunked(sample, 100), false), (e: unknown) => e instanceof FormatError && e.code === 'E_UNEXPECTED_CONTENT');
});

test('stream modes: names and mydumper numbers', () => {
  assert.equal(parseStreamMode(''), 'TRADITIONAL');
  assert.equal(parseStreamMode('no_delete'), 'NO_DELETE');
  assert.equal(parseStreamMode('0'), 'TRADITIONAL');
  assert.equal(parseStreamMode('1'), 'TRADITIONAL');
  assert.equal(parseStreamMode('2'), 'NO_DELETE');
  assert.equal(parseStreamMode('4'), 'NO_STREAM');
  assert.equal(parseStreamMode('6'), 'NO_STREAM_AND_NO_DELETE');
  assert.throws(() => parseStreamMode('SOMETIMES'));
});

test('file names: escaping of database and table names, and classification', () => {
  for (const n of ['plain', 'with-dash', 'dot.ted', 'sl/ash', 'at@sign', 'ünï ☃', '..', 'a`b']) {
    const e = encodeNamePart(n);
    assert.ok(!e.includes('/') && !e.includes('.') && !e.includes('-'), e);
    assert.equal(decodeNamePart(e), n);
  }
  const f = classifyDumpFile(`${dataFileName('my.db', 'ta-ble', 3)}.zst`);
  assert.deepEqual(f, { name: 'my@002edb.ta@002dble.00003.sql.zst', kind: 'data', db: 'my.db', table: 'ta-ble', compression: 'zstd' });
  assert.equal(classifyDumpFile('db.t.sql').kind, 'data'); // mydumper 0.10.1, unchunked
  assert.equal(classifyDumpFile('db.t.00001.00002.sql.gz').kind, 'data');
  assert.equal(classifyDumpFile('db.t-schema.sql').kind, 'table-schema');
  assert.equal(classifyDumpFile('db.v-schema-view.sql').kind, 'view');
  assert.equal(classifyDumpFile('db.t-schema-triggers.sql').kind, 'triggers');
  assert.equal(classifyDumpFile('db-schema-create.sql').kind, 'database');
  assert.equal(classifyDumpFile('db-schema-post.sql').kind, 'post');
  assert.equal(classifyDumpFile('metadata').kind, 'metadata');
  assert.equal(classifyDumpFile('metadata.partial.3').kind, 'metadata');
});
