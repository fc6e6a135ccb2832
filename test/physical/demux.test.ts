/**
 * The demultiplexer behind `backup --mariadb`: interleaved files come out whole and in order whatever
 * order they are read in, within the memory budget (the rest through spool files), and edits an entry
 * cannot carry are refused.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { readXbstream } from '../../src/container/xbstream/reader.js';
import { XbstreamDemux } from '../../src/source/xbstream-demux.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes, sha256 } from '../helpers/tree.js';
import { eofChunk, payloadChunk, removeChunk, renameChunk } from '../helpers/xbstream-builder.js';

/** Three files whose 64 KiB chunks alternate, as mariabackup --parallel writes them. */
function interleaved(files: Record<string, Buffer>, chunk = 64 << 10): Buffer {
  const parts: Buffer[] = [];
  const names = Object.keys(files);
  const longest = Math.max(...names.map((n) => (files[n] as Buffer).length));
  for (let at = 0; at < longest; at += chunk) {
    for (const name of names) {
      const data = files[name] as Buffer;
      if (at < data.length) parts.push(payloadChunk(name, data.subarray(at, at + chunk), { offset: at }));
      if (at + chunk >= data.length && at < data.length) parts.push(eofChunk(name));
    }
  }
  return Buffer.concat(parts);
}

async function* inPieces(bytes: Buffer, piece = 7000): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
}

async function drain(content: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of content) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

test('interleaved files read last-first come out whole, holding at most the memory budget and spooling the rest', async (t) => {
  const dir = await tempDir(t);
  const files = { 'a/ibdata1': pseudoRandomBytes(3 << 20, 1), 'b.ibd': pseudoRandomBytes(2 << 20, 2), 'xtrabackup_info': Buffer.from('x = 1\n') };
  const demux = new XbstreamDemux(readXbstream(inPieces(interleaved(files))), { spoolDirectory: dir, memoryBytes: 512 << 10, mtimeMs: 0 });
  const entries = [];
  for await (const entry of demux.entries()) entries.push(entry);
  assert.deepEqual(entries.map((e) => e.path), Object.keys(files), 'entries in the order of their first chunk');
  for (const entry of entries.reverse()) {
    assert.equal(sha256(await drain(entry.content)), sha256(files[entry.path as keyof typeof files]), entry.path);
  }
  assert.ok(demux.held.peakMemoryBytes <= 512 << 10, `memory held ${demux.held.peakMemoryBytes}`);
  assert.ok(demux.held.spooledBytes > 4 << 20, 'what did not fit went to spool files');
  assert.deepEqual(await readdir(dir), [], 'spool files are removed once read');
});

test('a file read as it arrives holds nothing back', async (t) => {
  const dir = await tempDir(t);
  const data = pseudoRandomBytes(1 << 20, 3);
  const demux = new XbstreamDemux(readXbstream(inPieces(interleaved({ one: data }))), { spoolDirectory: dir, mtimeMs: 0 });
  const seen: Buffer[] = [];
  for await (const entry of demux.entries()) seen.push(await drain(entry.content));
  assert.equal(seen.length, 1);
  assert.ok((seen[0] as Buffer).equals(data));
  assert.equal(demux.held.spooledBytes, 0);
  assert.ok(demux.held.peakMemoryBytes <= 64 << 10, 'at most one chunk is held');
});

test('a remove chunk is refused with its chunk number; a bad CRC fails the content', async (t) => {
  const dir = await tempDir(t);
  const stream = Buffer.concat([payloadChunk('f', 'abc'), eofChunk('f'), removeChunk('g')]);
  const demux = new XbstreamDemux(readXbstream(inPieces(stream)), { spoolDirectory: dir, mtimeMs: 0 });
  await assert.rejects(async () => {
    for await (const entry of demux.entries()) await drain(entry.content);
  }, /remove chunk cannot be taken.*chunk 3/);

  const bad = Buffer.concat([payloadChunk('f', 'abc', { crc: 1 }), eofChunk('f')]);
  const demux2 = new XbstreamDemux(readXbstream(inPieces(bad)), { spoolDirectory: dir, mtimeMs: 0 });
  await assert.rejects(async () => {
    for await (const entry of demux2.entries()) await drain(entry.content);
  }, /checksum mismatch/);
});

test('with onEdit, rewrite makes a new version of a file and remove/rename are reported in stream order', async (t) => {
  const dir = await tempDir(t);
  const REWRITE = 0x02;
  const stream = Buffer.concat([
    payloadChunk('a', 'first'),
    eofChunk('a'),
    payloadChunk('db/t.frm', 'table'),
    eofChunk('db/t.frm'),
    payloadChunk('a', 'second', { flags: REWRITE }),
    eofChunk('a', REWRITE),
    renameChunk('db/t.frm', 'db/u.frm'),
    removeChunk('gone'),
    eofChunk('b', REWRITE),
  ]);
  const edits: unknown[] = [];
  const demux = new XbstreamDemux(readXbstream(inPieces(stream, 5)), { spoolDirectory: dir, mtimeMs: 0, onEdit: (e) => edits.push(e) });
  const seen: [string, string][] = [];
  for await (const entry of demux.entries()) seen.push([entry.path, (await drain(entry.content)).toString()]);
  assert.deepEqual(seen, [
    ['a', 'first'],
    ['db/t.frm', 'table'],
    ['a', 'second'],
    ['b', ''],
  ]);
  assert.deepEqual(edits, [
    { type: 'rename', path: 'db/t.frm', to: 'db/u.frm', after: 3 },
    { type: 'remove', path: 'gone', after: 3 },
  ]);
});

test('a deferred file (the redo log copy, started first and ended last) comes out at its end from a spool file, and the files read meanwhile as they arrive hold nothing back', async (t) => {
  const dir = await tempDir(t);
  const redo = pseudoRandomBytes(256 << 10, 4);
  const data = { 'db/a.ibd': pseudoRandomBytes(1 << 20, 5), 'db/b.ibd': pseudoRandomBytes(1 << 20, 6) };
  // the redo log's chunks interleave with the data files, one after the other, from the first to the last
  const parts: Buffer[] = [];
  let redoAt = 0;
  const redoPiece = (): void => {
    parts.push(payloadChunk('ib_logfile0', redo.subarray(redoAt, redoAt + (32 << 10)), { offset: redoAt }));
    redoAt += 32 << 10;
  };
  redoPiece();
  for (const [name, bytes] of Object.entries(data)) {
    for (let at = 0; at < bytes.length; at += 256 << 10) {
      parts.push(payloadChunk(name, bytes.subarray(at, at + (256 << 10)), { offset: at }));
      redoPiece();
    }
    parts.push(eofChunk(name));
  }
  while (redoAt < redo.length) redoPiece();
  parts.push(eofChunk('ib_logfile0'), payloadChunk('db/c.frm', 'frm'), eofChunk('db/c.frm'));
  const edits: unknown[] = [];
  const stream = Buffer.concat([...parts.slice(0, -2), removeChunk('db/gone'), ...parts.slice(-2)]);
  const demux = new XbstreamDemux(readXbstream(inPieces(stream)), {
    spoolDirectory: dir,
    mtimeMs: 0,
    deferred: (path) => path === 'ib_logfile0',
    onEdit: (e) => edits.push(e),
  });
  const seen: [string, string][] = [];
  for await (const entry of demux.entries()) seen.push([entry.path, sha256(await drain(entry.content))]);
  assert.deepEqual(seen, [
    ['db/a.ibd', sha256(data['db/a.ibd'])],
    ['db/b.ibd', sha256(data['db/b.ibd'])],
    ['ib_logfile0', sha256(redo)],
    ['db/c.frm', sha256('frm')],
  ]);
  assert.deepEqual(edits, [{ type: 'remove', path: 'db/gone', after: 3 }], 'after counts entries in the order they come out');
  assert.equal(demux.held.spooledBytes, redo.length, 'the deferred file waits in a spool file, and only it');
  assert.ok(demux.held.peakMemoryBytes <= 256 << 10, `held ${demux.held.peakMemoryBytes} in memory: at most one data chunk`);
  assert.deepEqual(await readdir(dir), [], 'the spool file is removed once read');
});

/** Input that reads into one buffer, overwritten as soon as the next piece is asked for (as readFdBlocks may). */
async function* reusingOneBuffer(bytes: Buffer, piece = 7000): AsyncGenerator<Uint8Array> {
  const buffer = Buffer.alloc(piece);
  for (let at = 0; at < bytes.length; at += piece) {
    const n = bytes.copy(buffer, 0, at, at + piece);
    yield buffer.subarray(0, n);
    buffer.fill(0xee);
  }
}

test('with blocks, what the input yields is copied at once (the input may reuse its buffer), and blocks given back are reused', async (t) => {
  const { BufferPool } = await import('../../src/bytes/buffer-pool.js');
  const { DEMUX_BLOCK_BYTES } = await import('../../src/source/xbstream-demux.js');
  const dir = await tempDir(t);
  const files = { 'a/ibdata1': pseudoRandomBytes(3 << 20, 4), 'b.ibd': pseudoRandomBytes(5 << 20, 5), 'xtrabackup_info': Buffer.from('x = 1\n') };
  const blocks = new BufferPool(DEMUX_BLOCK_BYTES, 64);
  let taken = 0;
  const distinct = new Set<ArrayBufferLike>();
  const take = blocks.take.bind(blocks);
  blocks.take = () => {
    taken += 1;
    const block = take();
    distinct.add(block.buffer);
    return block;
  };
  // b.ibd read first: a/ibdata1 waits, 1 MiB in memory and the rest in its spool file (read back into blocks)
  const demux = new XbstreamDemux(readXbstream(reusingOneBuffer(interleaved(files))), { spoolDirectory: dir, memoryBytes: 1 << 20, mtimeMs: 0, blocks });
  const entries = [];
  for await (const entry of demux.entries()) entries.push(entry);
  const order = [1, 0, 2];
  for (const i of order) {
    const entry = entries[i] as (typeof entries)[number];
    const parts: Buffer[] = [];
    for await (const piece of entry.content) {
      parts.push(Buffer.from(piece));
      blocks.give(piece); // copied: its block may be reused
    }
    assert.equal(sha256(Buffer.concat(parts)), sha256(files[entry.path as keyof typeof files]), entry.path);
  }
  assert.ok(demux.held.spooledBytes > 0, 'some of a/ibdata1 went through its spool file');
  // 8 MiB passed through 1 MiB blocks, each given back once copied: a few blocks served them all (the
  // held megabyte of a/ibdata1, each file's open block, the spool read)
  assert.ok(taken >= 8, `blocks were used (${taken} taken)`);
  assert.ok(distinct.size <= 6, `${distinct.size} distinct blocks for ${taken} taken`);
});
