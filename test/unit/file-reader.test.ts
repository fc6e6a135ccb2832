import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { BufferPool } from '../../src/bytes/buffer-pool.js';
import { FileReader } from '../../src/source/file-reader.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes } from '../helpers/tree.js';

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

async function readAll(reader: FileReader, path: string, hint?: number): Promise<{ data: Buffer; blocks: number }> {
  const parts: Buffer[] = [];
  for await (const piece of reader.read(path, hint)) {
    parts.push(Buffer.from(piece));
  }
  return { data: Buffer.concat(parts), blocks: parts.length };
}

test('reads files of every size in blocks, with and without a size hint, on several threads', async (t) => {
  const dir = await tempDir(t);
  const pool = new BufferPool(4096, 4, true);
  const reader = new FileReader(pool, { threads: 2, readAhead: 2 });
  t.after(() => reader.close());
  for (const size of [0, 1, 4095, 4096, 4097, 3 * 4096, 50_000]) {
    const data = pseudoRandomBytes(size, size + 1);
    const path = join(dir, `f${size}`);
    await writeFile(path, data);
    for (const hint of [undefined, size]) {
      const got = await readAll(reader, path, hint);
      assert.deepEqual(got.data, data, `size ${size}, hint ${hint}`);
      assert.equal(got.blocks, Math.ceil(size / 4096), `size ${size}: one block per 4 KiB`);
    }
  }
});

test('a file that grew past its stat size is read to its real end', async (t) => {
  const dir = await tempDir(t);
  const reader = new FileReader(new BufferPool(4096, 4, true));
  t.after(() => reader.close());
  const data = pseudoRandomBytes(10_000, 7);
  await writeFile(join(dir, 'grew'), data);
  assert.deepEqual((await readAll(reader, join(dir, 'grew'), 100)).data, data);
});

test('stopping early, missing files and symlinks leave no descriptor open', async (t) => {
  const dir = await tempDir(t);
  const reader = new FileReader(new BufferPool(4096, 4, true), { threads: 2, readAhead: 2 });
  t.after(() => reader.close());
  await writeFile(join(dir, 'big'), pseudoRandomBytes(100_000, 3));
  await symlink('big', join(dir, 'link'));
  // Start both reader threads first: a thread holds descriptors of its own.
  await readAll(reader, join(dir, 'big'));
  await readAll(reader, join(dir, 'big'));
  const before = openDescriptors();
  for (let i = 0; i < 20; i++) {
    for await (const _ of reader.read(join(dir, 'big'))) break;
  }
  await assert.rejects(readAll(reader, join(dir, 'missing')), (err: NodeJS.ErrnoException) => err.code === 'ENOENT' && err.message.includes('missing'));
  await assert.rejects(readAll(reader, join(dir, 'link')), (err: NodeJS.ErrnoException) => err.code === 'ELOOP');
  await new Promise((r) => setTimeout(r, 50)); // close messages are fire-and-forget
  assert.equal(openDescriptors(), before);
});

test('batched files come back whole, side by side in one block; the rest are read on their own', async (t) => {
  const dir = await tempDir(t);
  const pool = new BufferPool(64 * 1024, 4, true);
  const reader = new FileReader(pool, { threads: 2 });
  t.after(() => reader.close());
  const sizes = [0, 1, 5000, 30_000, 70_000, 20_000, 64 * 1024, 12];
  const paths: string[] = [];
  for (const [i, size] of sizes.entries()) {
    paths.push(join(dir, `f${i}`));
    await writeFile(paths[i] as string, pseudoRandomBytes(size, i + 1));
  }
  await symlink('f2', join(dir, 'link'));
  paths.push(join(dir, 'link'), join(dir, 'vanished'));
  const batched = reader.batched(paths);
  const bufferOf: (ArrayBufferLike | undefined)[] = [];
  const held: Uint8Array[] = [];
  for (const [i, size] of sizes.entries()) {
    const pieces: Uint8Array[] = [];
    for await (const piece of batched.content(paths[i] as string)) {
      pieces.push(piece);
    }
    assert.deepEqual(Buffer.concat(pieces), pseudoRandomBytes(size, i + 1), `file ${i} (${size} bytes)`);
    bufferOf.push(pieces[0]?.buffer);
    held.push(...pieces); // kept until the end, so no block is reused meanwhile
  }
  // 1 + 5000 + 30000 bytes fill the first 35 KiB of the 64 KiB block; 70000 cannot fit and 20000 still
  // does; 64 KiB cannot; 12 does.
  const shared = bufferOf[1];
  for (const i of [2, 3, 5, 7]) assert.equal(bufferOf[i], shared, `file ${i} is in the batch block`);
  for (const i of [4, 6]) assert.notEqual(bufferOf[i], shared, `file ${i} was read on its own`);
  for (const piece of held) pool.give(piece);
  await assert.rejects(async () => {
    for await (const _ of batched.content(join(dir, 'link'))) break;
  }, (err: NodeJS.ErrnoException) => err.code === 'ELOOP');
  await assert.rejects(async () => {
    for await (const _ of batched.content(join(dir, 'vanished'))) break;
  }, (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
});

test('a batch block returns to the pool once every file in it has been given back', async (t) => {
  const dir = await tempDir(t);
  const pool = new BufferPool(64 * 1024, 4, true);
  const reader = new FileReader(pool);
  t.after(() => reader.close());
  const paths = [join(dir, 'a'), join(dir, 'b')];
  await writeFile(paths[0] as string, 'first');
  await writeFile(paths[1] as string, 'second');
  const batched = reader.batched(paths);
  const collect = async (it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> => {
    const out: Uint8Array[] = [];
    for await (const piece of it) out.push(piece);
    return out;
  };
  const [a] = await collect(batched.content(paths[0] as string));
  const [b] = await collect(batched.content(paths[1] as string));
  assert.equal(a?.buffer, b?.buffer, 'both files in one block');
  pool.give(a as Uint8Array);
  assert.notEqual(pool.take().buffer, a?.buffer, 'not back while one file is still out');
  pool.give(b as Uint8Array);
  assert.equal(pool.take().buffer, a?.buffer, 'back once both are');
});

test('crcOf: the CRC-32 of each view the reader yielded (threads, inline reads, batches), only while its block is lent for it', async (t) => {
  const dir = await tempDir(t);
  const pool = new BufferPool(4096, 2, true);
  // a tiny inline budget: the first reads on this thread, the rest on two threads
  const reader = new FileReader(pool, { threads: 2, readAhead: 2, inlineBytes: 5000, checksums: true });
  t.after(() => reader.close());
  const sizes = [0, 1, 100, 4095, 4096, 4097, 3 * 4096 + 5, 20_000];
  const paths: string[] = [];
  for (const [i, size] of sizes.entries()) {
    paths.push(join(dir, `f${i}`));
    await writeFile(paths[i] as string, pseudoRandomBytes(size, 40 + i));
  }
  const views: Uint8Array[] = [];
  for (const path of paths) for await (const piece of reader.read(path)) views.push(piece);
  const batched = reader.batched(paths.slice(0, 4));
  for (const path of paths.slice(0, 4)) for await (const piece of batched.content(path)) views.push(piece);
  assert.ok(views.length > 10);
  for (const [i, view] of views.entries()) {
    assert.equal(reader.crcOf(view), crc32(view), `view ${i} (${view.length} bytes)`);
    assert.equal(reader.crcOf(view.subarray(1)), undefined, `a view cut from view ${i} is not vouched for`);
  }
  assert.equal(reader.crcOf(Buffer.from(views[0] as Uint8Array)), undefined, 'nor is a copy');
  // once given back, a view's block may come back holding other bytes: its CRC is no longer given
  const whole = views.find((v) => v.length === 4096) as Uint8Array;
  pool.give(whole);
  assert.equal(reader.crcOf(whole), undefined, 'given back');
  for (const view of views) pool.give(view);
  const reused: Uint8Array[] = [];
  for await (const piece of reader.read(paths[7] as string)) reused.push(piece);
  assert.ok(reused.some((v) => v.buffer === whole.buffer), 'the block was read into again');
  assert.equal(reader.crcOf(whole), undefined, 'the old view of a block read into again');
  for (const view of reused) assert.equal(reader.crcOf(view), crc32(view), 'the new views');
  // without checksums, nothing is vouched for
  const plain = new FileReader(new BufferPool(4096, 2, true), { threads: 1 });
  t.after(() => plain.close());
  for await (const piece of plain.read(paths[7] as string)) assert.equal(plain.crcOf(piece), undefined);
});

test('a reader thread that exits fails the reads waiting on it instead of leaving them pending', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'big');
  await writeFile(path, pseudoRandomBytes(64 * 4096, 7));
  const pool = new BufferPool(4096, 4, true);
  const reader = new FileReader(pool, { threads: 1, readAhead: 4 });
  const it = reader.read(path)[Symbol.asyncIterator]();
  assert.equal((await it.next()).done, false, 'the first block arrives');
  const closing = reader.close(); // terminates the thread with reads still requested
  const outcome = await Promise.race([
    (async () => {
      for (;;) if ((await it.next()).done === true) return 'ended';
    })().catch((err: Error) => `failed: ${err.message}`),
    new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 5000).unref()),
  ]);
  await closing;
  assert.match(outcome, /^failed: .*exited/, `outcome: ${outcome}`);
});

/** OS threads of this process (a reader thread that starts adds at least its own). */
const osThreads = async (): Promise<number> => Number(/^Threads:\s+(\d+)/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1]);

test('within the inline budget files are read on the calling thread, and no reader thread starts', async (t) => {
  const dir = await tempDir(t);
  const paths = [0, 1, 2].map((i) => join(dir, `f${i}`));
  for (const [i, path] of paths.entries()) await writeFile(path, pseudoRandomBytes(5000 * i, i));
  const before = await osThreads();
  const inline = new FileReader(new BufferPool(64 * 1024, 4, true), { threads: 2, inlineBytes: 1 << 20 });
  for (const [i, path] of paths.entries()) assert.deepEqual((await readAll(inline, path)).data, pseudoRandomBytes(5000 * i, i));
  const batched = inline.batched(paths);
  for (const [i, path] of paths.entries()) {
    const pieces: Uint8Array[] = [];
    for await (const piece of batched.content(path)) pieces.push(Buffer.from(piece));
    assert.deepEqual(Buffer.concat(pieces), pseudoRandomBytes(5000 * i, i));
  }
  // at most as many: a thread of an earlier test may still be finishing its exit
  assert.ok((await osThreads()) <= before, 'a thread started for reads within the budget');
  await inline.close();
  // the same reads without a budget do start a thread: the count above can tell
  const threaded = new FileReader(new BufferPool(64 * 1024, 4, true), { threads: 1 });
  t.after(() => threaded.close());
  await readAll(threaded, paths[1] as string);
  assert.ok((await osThreads()) > before, 'the thread count did not show a reader thread');
});

test('past the inline budget reads go to the threads, also in the middle of a file', async (t) => {
  const dir = await tempDir(t);
  const data = pseudoRandomBytes(40 * 4096 + 17, 9);
  await writeFile(join(dir, 'big'), data);
  const reader = new FileReader(new BufferPool(4096, 4, true), { threads: 2, readAhead: 2, inlineBytes: 5 * 4096 });
  t.after(() => reader.close());
  const before = await osThreads();
  for (const hint of [undefined, data.length]) {
    const got = await readAll(reader, join(dir, 'big'), hint);
    assert.deepEqual(got.data, data, `hint ${hint}`);
    assert.equal(got.blocks, 41);
  }
  assert.ok((await osThreads()) > before, 'no reader thread started past the budget');
});

test('the inline reader never blocks on a FIFO: a thread opens it, as without the budget', async (t) => {
  const dir = await tempDir(t);
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const outcome = async (inlineBytes: number): Promise<string> => {
    const reader = new FileReader(new BufferPool(4096, 4, true), { inlineBytes });
    t.after(() => reader.close());
    const reading = readAll(reader, fifo).then(
      () => 'read',
      (err: NodeJS.ErrnoException) => `${err.code}`,
    );
    // Were the open done on this thread, it would wait for a writer and this line would never run.
    const writer = spawn('sh', ['-c', `printf 'through the pipe' > ${fifo}`]);
    const [result] = await Promise.all([reading, new Promise((resolve) => writer.on('close', resolve))]);
    return result;
  };
  // positional reads cannot read a pipe: the outcome is the threads' own, with or without the budget
  assert.equal(await outcome(1 << 20), 'ESPIPE');
  assert.equal(await outcome(0), 'ESPIPE');
});
