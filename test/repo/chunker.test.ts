import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Chunker, type ChunkerParams, gearTable } from '../../src/repo/content/chunker.js';
import { pseudoRandomBytes } from '../helpers/tree.js';

const SMALL: ChunkerParams = { min: 1024, avg: 4096, max: 16384 };
const gear = gearTable(new Uint8Array(32).fill(7));

function cut(data: Uint8Array, pieces: number[], params = SMALL, g = gear): number[] {
  const chunker = new Chunker(g, params);
  const sizes: number[] = [];
  let current = 0;
  let at = 0;
  let i = 0;
  while (at < data.length) {
    const len = Math.max(1, pieces[i++ % pieces.length] ?? data.length);
    const piece = data.subarray(at, Math.min(data.length, at + len));
    at += piece.length;
    let pos = 0;
    while (pos < piece.length) {
      const end = chunker.next(piece, pos);
      current += end - pos;
      pos = end;
      if (chunker.cut) {
        sizes.push(current);
        current = 0;
      }
    }
  }
  if (current > 0) sizes.push(current);
  return sizes;
}

test('cut points do not depend on how the input is split', () => {
  const data = pseudoRandomBytes(300_000, 11);
  const whole = cut(data, [data.length]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 20 }), (pieces) => {
      assert.deepEqual(cut(data, pieces), whole);
    }),
    { numRuns: 60 },
  );
  assert.deepEqual(cut(data, [1]).length, whole.length);
});

test('chunks respect min and max, and average near the target', () => {
  const data = pseudoRandomBytes(2_000_000, 5);
  const sizes = cut(data, [65536]);
  assert.equal(sizes.reduce((a, b) => a + b, 0), data.length);
  for (const s of sizes.slice(0, -1)) {
    assert.ok(s >= SMALL.min && s <= SMALL.max, `chunk of ${s} bytes`);
  }
  const avg = data.length / sizes.length;
  assert.ok(avg > SMALL.avg * 0.7 && avg < SMALL.avg * 2, `average ${avg}`);
});

test('a run of zeros is cut at max (it has no content to anchor on)', () => {
  const sizes = cut(new Uint8Array(100_000), [100_000]);
  assert.ok(sizes.slice(0, -1).every((s) => s === SMALL.max || s === SMALL.min + 32 || s >= SMALL.min), String(sizes));
});

test('an insertion near the start changes only the chunks around it (content-defined)', () => {
  const data = pseudoRandomBytes(400_000, 9);
  const edited = Buffer.concat([data.subarray(0, 5000), Buffer.from('inserted bytes'), data.subarray(5000)]);
  const a = cut(data, [data.length]);
  const b = cut(edited, [edited.length]);
  const tailA = a.slice(-Math.floor(a.length * 0.8)).join(',');
  const tailB = b.slice(-Math.floor(a.length * 0.8)).join(',');
  assert.equal(tailB, tailA, 'the later chunks are identical after an insertion');
});

test('the gear table comes from the key: another key cuts elsewhere', () => {
  const data = pseudoRandomBytes(200_000, 1);
  const other = gearTable(new Uint8Array(32).fill(8));
  assert.notDeepEqual(cut(data, [data.length], SMALL, other), cut(data, [data.length]));
  assert.deepEqual(gearTable(new Uint8Array(32).fill(7)), gear);
});

test('bad parameters are refused', () => {
  assert.throws(() => new Chunker(gear, { min: 1024, avg: 3000, max: 8192 }), /power of two/);
  assert.throws(() => new Chunker(gear, { min: 8192, avg: 4096, max: 16384 }), /min/);
  assert.throws(() => new Chunker(gear, { min: 1024, avg: 4096, max: 2048 }), /max/);
});

test('chunks cut by the reader worker from a file descriptor equal those cut in-process; no slot is lost', async (t) => {
  const { openSync, closeSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tempDir } = await import('../helpers/tmp.js');
  const { SlotPool } = await import('../../src/repo/content/slot-pool.js');
  const { mainThreadChunks, workerChunks } = await import('../../src/repo/content/chunk-sources.js');
  const data = pseudoRandomBytes(900_000, 21);
  const path = join(await tempDir(t), 'input');
  writeFileSync(path, data);
  const collect = async (source: { chunks: AsyncIterable<{ slot: number; length: number }> }, slots: InstanceType<typeof SlotPool>) => {
    const out: string[] = [];
    for await (const c of source.chunks) {
      out.push(Buffer.from(slots.view(c.slot, c.length)).toString('hex').slice(0, 16) + c.length);
      // Release late and out of order, as the real pipeline does.
      setTimeout(() => slots.release(c.slot), Math.random() * 5);
    }
    await new Promise((r) => setTimeout(r, 20));
    return out;
  };
  const slotsA = new SlotPool(3, SMALL.max);
  const inProcess = await collect(mainThreadChunks((async function* () { for (let i = 0; i < data.length; i += 7777) yield data.subarray(i, i + 7777); })(), slotsA, gear, SMALL), slotsA);
  const slotsB = new SlotPool(3, SMALL.max);
  const fd = openSync(path, 'r');
  try {
    const source = workerChunks(fd, slotsB, gear, SMALL);
    const fromWorker = await collect(source, slotsB);
    assert.deepEqual(fromWorker, inProcess);
    assert.equal(source.bytes, data.length);
  } finally {
    closeSync(fd);
  }
  assert.equal(slotsB.available, 3, 'every slot is back in the pool');
  assert.equal(slotsA.available, 3);
});

test('the WebAssembly scan over the slots cuts exactly where the JavaScript scan does', async () => {
  const { SlotPool } = await import('../../src/repo/content/slot-pool.js');
  const cases: { params: ChunkerParams; data: Uint8Array }[] = [
    { params: SMALL, data: pseudoRandomBytes(200_000, 5) },
    { params: { min: 64, avg: 256, max: 1024 }, data: pseudoRandomBytes(50_000, 6) },
    // Text-like data with long runs: cuts land at max and inside runs.
    { params: SMALL, data: Uint8Array.from({ length: 120_000 }, (_, i) => (i % 7000 < 3000 ? 0 : 97 + (i % 13))) },
  ];
  for (const { params, data } of cases) {
    const slots = new SlotPool(1, data.length);
    const scanner = slots.useGear(gear);
    assert.ok(scanner !== undefined, 'the WebAssembly kernel loads here');
    const inSlot = slots.view(0, data.length);
    inSlot.set(data);
    const cuts = (chunker: Chunker, bytes: Uint8Array): number[] => {
      const out: number[] = [];
      let pos = 0;
      while (pos < bytes.length) {
        pos = chunker.next(bytes, pos);
        if (chunker.cut) out.push(pos);
      }
      return out;
    };
    const wasm = cuts(new Chunker(gear, params, scanner), inSlot);
    const js = cuts(new Chunker(gear, params), Uint8Array.from(data));
    assert.ok(js.length > 3);
    assert.deepEqual(wasm, js);
  }
});

test('a chunker refuses a scanner whose memory holds another gear table', async () => {
  const { SlotPool } = await import('../../src/repo/content/slot-pool.js');
  const slots = new SlotPool(1, 4096);
  const scanner = slots.useGear(gear);
  assert.ok(scanner !== undefined);
  assert.throws(() => new Chunker(gearTable(new Uint8Array(32).fill(8)), SMALL, scanner), /another gear table/);
});

test('stdin as a pipe: the reader thread (woken by libuv, pausing without slots) cuts what the main thread cuts', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const { tempDir } = await import('../helpers/tmp.js');
  const { sh } = await import('../helpers/cli.js');
  const { SlotPool } = await import('../../src/repo/content/slot-pool.js');
  const child = await import('./pipe-reader-child.js');
  const data = pseudoRandomBytes(2_000_000, 31);
  const path = join(await tempDir(t), 'input');
  writeFileSync(path, data);
  const slots = new SlotPool(3, child.CHILD_PARAMS.max);
  const pieces = (async function* () {
    for (let i = 0; i < data.length; i += 50_000) yield data.subarray(i, i + 50_000);
  })();
  const expected = await child.describeChunks(child.mainThreadChunks(pieces, slots, child.CHILD_GEAR, child.CHILD_PARAMS), slots);
  const script = fileURLToPath(new URL('./pipe-reader-child.js', import.meta.url));
  // A producer that pauses mid-stream (the reader waits for data) and a fast one (it waits for slots).
  // With 2 slots held for a while, reads land in the small landing buffer (no slot is free when libuv
  // asks for a buffer); with 8 slots released at once, most go straight into a slot.
  for (const producer of [`(head -c 900001 ${path}; sleep 0.3; tail -c +900002 ${path})`, `cat ${path}`]) {
    for (const [count, holdMs] of [[2, 5], [8, 0]] as const) {
      const r = await sh(`${producer} | node ${script} ${count} ${holdMs}`);
      assert.equal(r.status, 0, r.stderr.toString());
      const got = JSON.parse(r.stdout.toString()) as typeof expected;
      assert.deepEqual(got.chunks, expected.chunks);
      assert.equal(got.bytes, data.length);
      assert.equal(got.free, count, 'every slot is back in the pool');
    }
  }
});

test('an empty pipe on stdin gives no chunks and ends', async () => {
  const { fileURLToPath } = await import('node:url');
  const { sh } = await import('../helpers/cli.js');
  const script = fileURLToPath(new URL('./pipe-reader-child.js', import.meta.url));
  const r = await sh(`true | node ${script} 2 0`);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(JSON.parse(r.stdout.toString()), { chunks: [], bytes: 0, free: 2 });
});
