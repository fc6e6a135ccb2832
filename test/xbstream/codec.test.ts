import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readXbstream, type XbstreamEvent } from '../../src/container/xbstream/reader.js';
import { stageLikeUpstream, writeXbstream } from '../../src/container/xbstream/writer.js';
import { type Entry, toSafePath } from '../../src/entry.js';

// `printf hello > hello.txt && mbstream -c hello.txt` (formats/xbstream.md §1.11), 71 bytes.
const HELLO_VECTOR = Buffer.from(
  '58425354434b303100500900000068656c6c6f2e7478740500000000000000000000000000000086a6103668656c6c6f58425354434b303100450900000068656c6c6f2e747874',
  'hex',
);

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of source) parts.push(p);
  return Buffer.concat(parts);
}

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

function fileEntry(path: string, data: Buffer): Entry {
  return { kind: 'file', path: toSafePath(path), mode: 0o644, mtimeMs: 0, size: data.length, content: once(data) };
}

async function* list<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

test('the writer reproduces mbstream -c byte for byte', async () => {
  const out = await collect(writeXbstream(list([fileEntry('hello.txt', Buffer.from('hello'))])));
  assert.equal(out.length, 71);
  assert.deepEqual(out, HELLO_VECTOR);
});

test('the reader decodes the mbstream vector', async () => {
  const events: XbstreamEvent[] = [];
  for await (const e of readXbstream(once(HELLO_VECTOR))) events.push(e);
  assert.equal(events.length, 2);
  const [data, eof] = events;
  assert.equal(data?.type, 'data');
  if (data?.type === 'data') {
    assert.equal(data.path, 'hello.txt');
    assert.equal(Buffer.from(data.data).toString(), 'hello');
    assert.equal(data.offset, 0);
    assert.equal(data.chunk, 1);
    assert.equal(data.streamOffset, 0);
  }
  assert.equal(eof?.type, 'eof');
  assert.equal(eof?.streamOffset, 48);
  assert.equal(eof?.chunk, 2);
});

test('files are cut into 10 MiB chunks like the peers, an empty file is a lone E chunk', async () => {
  const big = Buffer.alloc(25 * 1024 * 1024, 7);
  const stream = await collect(writeXbstream(list([fileEntry('big', big), fileEntry('empty', Buffer.alloc(0))])));
  const sizes: number[] = [];
  const types: string[] = [];
  for await (const e of readXbstream(once(stream), { maxEventBytes: 64 << 20 })) {
    types.push(e.type);
    if (e.type === 'data') sizes.push(e.data.length);
  }
  assert.deepEqual(sizes, [10 << 20, 10 << 20, 5 << 20]);
  assert.deepEqual(types, ['data', 'data', 'data', 'eof', 'eof']);
});

test('with parallel lanes, chunks of different files interleave, each file in order', async () => {
  const a = Buffer.alloc(3000, 1);
  const b = Buffer.alloc(3000, 2);
  async function* slow(data: Buffer, delayMs: number): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < data.length; at += 500) {
      await new Promise((r) => setTimeout(r, delayMs));
      yield data.subarray(at, at + 500);
    }
  }
  const entries: Entry[] = [
    { kind: 'file', path: toSafePath('a'), mode: 0o644, mtimeMs: 0, content: slow(a, 3) },
    { kind: 'file', path: toSafePath('b'), mode: 0o644, mtimeMs: 0, content: slow(b, 2) },
  ];
  const stream = await collect(writeXbstream(list(entries), { parallel: 2, chunkBytes: 1000 }));
  const order: string[] = [];
  const offsets = new Map<string, number[]>();
  for await (const e of readXbstream(once(stream))) {
    if (e.type !== 'data') continue;
    order.push(e.path);
    offsets.set(e.path, [...(offsets.get(e.path) ?? []), e.offset]);
  }
  // Upstream staging: a 500-byte write into a 1000-byte stage holding 500 bytes is not smaller than the
  // free space, so the stage and the write go out as chunks of their own.
  assert.deepEqual(offsets.get('a'), [0, 500, 1000, 1500, 2000, 2500]);
  assert.deepEqual(offsets.get('b'), [0, 500, 1000, 1500, 2000, 2500]);
  assert.equal(order[0], 'a', 'the first file started emits first');
  assert.ok(order.join('') !== 'aaabbb', `expected interleaving, got ${order.join('')}`);
});

test('payloads are staged like upstream: small writes gather, a write that does not fit goes out alone, nothing is copied', async () => {
  const writes = [300, 300, 300, 500, 1000, 2500, 10, 0, 20].map((n, i) => Buffer.alloc(n, i));
  async function* content(): AsyncGenerator<Uint8Array> {
    yield* writes;
  }
  const chunks: Uint8Array[][] = [];
  for await (const c of stageLikeUpstream(content(), 1000)) chunks.push(c);
  assert.deepEqual(
    chunks.map((c) => c.map((p) => p.length)),
    // 300+300+300 staged; 500 does not fit the 100 left: flush, then 500 alone; 1000 alone; 2500 cut
    // into 1000, 1000, 500 (500 is staged); 10 and 20 join it; the end flushes.
    [[300, 300, 300], [500], [1000], [1000], [1000], [500, 10, 20]],
  );
  assert.ok(chunks[0]?.[0] === writes[0], 'staged pieces are the writes themselves, not copies');
  assert.equal(chunks[3]?.[0]?.buffer, writes[5]?.buffer, 'a cut piece is a view of the write');
});
