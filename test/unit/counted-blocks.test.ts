/** Recycled input blocks: retained views are never overwritten, released blocks are reused, nothing leaks. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { ByteReader } from '../../src/bytes/byte-reader.js';
import { CountedBlocks } from '../../src/bytes/counted-blocks.js';
import { crc32 } from '../../src/bytes/crc32.js';
import { readFdBlocks } from '../../src/bytes/fd-blocks.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes } from '../helpers/tree.js';

test('a block returns to the free list only when its last reference is released', () => {
  const blocks = new CountedBlocks(1024);
  const a = blocks.take();
  const view = a.subarray(10, 20);
  blocks.retain(view);
  blocks.release(a);
  assert.equal(blocks.inUse, 1, 'still retained through a view');
  assert.notEqual(blocks.take().buffer, a.buffer, 'a retained block is not handed out again');
  blocks.release(view);
  assert.equal(blocks.inUse, 1, 'only the second block is left');
  assert.equal(blocks.take().buffer, a.buffer, 'the released block is reused');
  blocks.retain(new Uint8Array(5));
  blocks.release(new Uint8Array(5)); // memory that is not a counted block is ignored
  assert.equal(blocks.inUse, 2);
});

test('the CRC-32 matches zlib for any length and continues from a previous value', () => {
  for (const size of [0, 1, 7, 64, 1000, 65_537, 1 << 20]) {
    const data = pseudoRandomBytes(size, size + 3);
    assert.equal(crc32(data), zlibCrc32(data), `size ${size}`);
    const cut = Math.floor(size / 3);
    assert.equal(crc32(data.subarray(cut), crc32(data.subarray(0, cut))), zlibCrc32(data), `size ${size}, continued`);
  }
  assert.equal(crc32(Buffer.from('hello')), 0x3610a686);
});

/** Reads `source` through readFdBlocks, retaining every `keepEvery`-th view and checking them all at the end. */
async function readRetaining(fd: number, blocks: CountedBlocks, keepEvery: number): Promise<Buffer> {
  const kept: { view: Uint8Array; copy: Buffer }[] = [];
  const all: Buffer[] = [];
  let i = 0;
  for await (const view of readFdBlocks(fd, blocks, { settleOnReturn: true })) {
    all.push(Buffer.from(view));
    if (i++ % keepEvery === 0) {
      blocks.retain(view);
      kept.push({ view, copy: Buffer.from(view) });
    }
    // Let some kept views go while reading goes on, as writes complete.
    if (kept.length > 3) {
      const done = kept.shift()!;
      assert.deepEqual(Buffer.from(done.view), done.copy, 'a retained view was overwritten');
      blocks.release(done.view);
    }
  }
  for (const { view, copy } of kept) {
    assert.deepEqual(Buffer.from(view), copy, 'a retained view was overwritten');
    blocks.release(view);
  }
  return Buffer.concat(all);
}

test('reading a file into recycled blocks keeps retained views intact and returns every block', async (t) => {
  const dir = await tempDir(t);
  const data = pseudoRandomBytes(3_000_000, 9);
  const path = join(dir, 'input');
  await writeFile(path, data);
  for (const keepEvery of [1, 2, 5]) {
    const blocks = new CountedBlocks(256 * 1024, 4);
    const fd = openSync(path, 'r');
    try {
      assert.deepEqual(await readRetaining(fd, blocks, keepEvery), data, `keep every ${keepEvery}`);
    } finally {
      closeSync(fd);
    }
    assert.equal(blocks.inUse, 0, 'every block was released');
  }
});

test('reading a pipe fed in small bursts yields every byte in order, views intact', async () => {
  // A producer that writes in uneven pieces with pauses, so reads return short and fill blocks part by
  // part; the consumer reads its stdin (the pipe) as the CLI does, keeping some views for a while.
  const producer = `
    const { pseudoRandomBytes } = await import(${JSON.stringify(new URL('../helpers/tree.js', import.meta.url).href)});
    const data = pseudoRandomBytes(1_500_000, 11);
    let at = 0, n = 1;
    const step = () => {
      if (at >= data.length) return;
      const size = (n++ * 7919) % 90000 + 1;
      process.stdout.write(data.subarray(at, at + size), () => setTimeout(step, n % 5 === 0 ? 5 : 0));
      at += size;
    };
    step();`;
  const consumer = `
    const { CountedBlocks } = await import(${JSON.stringify(new URL('../../src/bytes/counted-blocks.js', import.meta.url).href)});
    const { readFdBlocks } = await import(${JSON.stringify(new URL('../../src/bytes/fd-blocks.js', import.meta.url).href)});
    const { createHash } = await import('node:crypto');
    const blocks = new CountedBlocks(256 * 1024, 4);
    const hash = createHash('sha256');
    const kept = [];
    let i = 0, overwritten = 0;
    for await (const view of readFdBlocks(0, blocks)) {
      hash.update(view);
      if (i++ % 3 === 0) { blocks.retain(view); kept.push({ view, copy: Buffer.from(view) }); }
      while (kept.length > 3) { const k = kept.shift(); if (!k.copy.equals(k.view)) overwritten++; blocks.release(k.view); }
    }
    for (const k of kept) { if (!k.copy.equals(k.view)) overwritten++; blocks.release(k.view); }
    console.log(JSON.stringify({ sha256: hash.digest('hex'), overwritten, inUse: blocks.inUse, reads: i }));`;
  const quote = (script: string): string => `'${script.replace(/'/g, `'\\''`)}'`;
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', `node --input-type=module -e ${quote(producer)} | node --input-type=module -e ${quote(consumer)}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const parts: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => parts.push(b));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(Buffer.concat(parts).toString()) : reject(new Error(`pipeline exited ${status}`))));
  });
  const result = JSON.parse(out) as { sha256: string; overwritten: number; inUse: number; reads: number };
  assert.equal(result.sha256, createHash('sha256').update(pseudoRandomBytes(1_500_000, 11)).digest('hex'));
  assert.equal(result.overwritten, 0, 'a retained view was overwritten');
  assert.equal(result.inUse, 0, 'every block was released');
  assert.ok(result.reads > 20, `short pipe reads (${result.reads}) filled blocks part by part`);
});

test('peek across chunks is unaffected when the producer reuses the chunk it gave before', async () => {
  const reused = Buffer.alloc(8);
  async function* recycling(): AsyncGenerator<Uint8Array> {
    reused.set([1, 2, 3, 4, 5, 6, 7, 8]);
    yield reused;
    reused.fill(0xee); // the producer writes its next data into the same memory
    yield reused;
  }
  const reader = new ByteReader(recycling());
  await reader.readExact(6, 'head');
  assert.deepEqual([...(await reader.peek(4))], [7, 8, 0xee, 0xee]);
});
