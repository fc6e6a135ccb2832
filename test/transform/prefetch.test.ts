/** prefetchFiles: same entries, same order, same content; work starts early but within its budget. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Entry, toSafePath } from '../../src/entry.js';
import { prefetchFiles } from '../../src/transform/prefetch.js';
import { collect } from './helpers.js';

interface Probe {
  started: number;
  drainedBytes: number;
}

function fileEntry(name: string, pieces: number[], probe: Probe, fail?: number): Entry {
  async function* content(): AsyncGenerator<Uint8Array> {
    probe.started += 1;
    for (let i = 0; i < pieces.length; i++) {
      await new Promise((r) => setImmediate(r));
      if (fail === i) throw new Error(`read error in ${name}`);
      const piece = new Uint8Array(pieces[i] as number).fill(i % 251);
      probe.drainedBytes += piece.length;
      yield piece;
    }
  }
  return { kind: 'file', path: toSafePath(name), mode: 0o644, mtimeMs: 0, content: content() };
}

test('entries come out in order with their content intact, whatever the sizes', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 6 }), { maxLength: 30 }), fc.integer({ min: 1, max: 8 }), async (files, ahead) => {
      const probe = { started: 0, drainedBytes: 0 };
      async function* source(): AsyncGenerator<Entry> {
        for (let i = 0; i < files.length; i++) {
          if (i % 7 === 3) yield { kind: 'dir', path: toSafePath(`d${i}`), mode: 0o755, mtimeMs: 0 };
          yield fileEntry(`f${i}`, files[i] as number[], probe);
        }
      }
      const seen: string[] = [];
      for await (const entry of prefetchFiles(source(), { files: ahead, bytes: 8000 })) {
        seen.push(entry.path);
        if (entry.kind !== 'file') continue;
        const i = Number(entry.path.slice(1));
        const pieces = files[i] as number[];
        const bytes = await collect(entry.content);
        assert.equal(bytes.length, pieces.reduce((a, b) => a + b, 0));
        let at = 0;
        pieces.forEach((n, k) => {
          assert.ok(bytes.subarray(at, at + n).every((b) => b === k % 251));
          at += n;
        });
      }
      assert.deepEqual(seen.filter((p) => p.startsWith('f')), files.map((_, i) => `f${i}`));
    }),
    { numRuns: 60 },
  );
});

test('content of later files is drained early, but never beyond the byte budget', async () => {
  const probe = { started: 0, drainedBytes: 0 };
  async function* source(): AsyncGenerator<Entry> {
    for (let i = 0; i < 10; i++) yield fileEntry(`f${i}`, [1000, 1000, 1000, 1000], probe);
  }
  const it = prefetchFiles(source(), { files: 6, bytes: 5000, draining: 6 })[Symbol.asyncIterator]();
  const first = (await it.next()).value as Entry;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(probe.started, 6, 'six files started before the first is read');
  assert.ok(probe.drainedBytes <= 5000 + 6 * 1000, `drained ${probe.drainedBytes} bytes`);
  assert.ok(probe.drainedBytes >= 4000, 'and the budget was used');
  assert.equal(first.kind, 'file');
  await it.return?.(undefined);
});

test('at most `draining` files are drained at once; the others wait their turn and still come out whole', async () => {
  let active = 0;
  let most = 0;
  async function* slowContent(): AsyncGenerator<Uint8Array> {
    active += 1;
    most = Math.max(most, active);
    try {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 5));
        yield new Uint8Array(1000);
      }
    } finally {
      active -= 1;
    }
  }
  async function* source(): AsyncGenerator<Entry> {
    for (let i = 0; i < 8; i++) yield { kind: 'file', path: toSafePath(`f${i}`), mode: 0o644, mtimeMs: 0, content: slowContent() };
  }
  let files = 0;
  for await (const entry of prefetchFiles(source(), { files: 6, bytes: 1 << 20, draining: 2 })) {
    if (entry.kind === 'file') assert.equal((await collect(entry.content)).length, 3000, entry.path);
    files += 1;
  }
  assert.equal(files, 8);
  assert.ok(most <= 3, `at most two drains and the file being read at once, saw ${most}`);
  assert.ok(most >= 2, `files were drained ahead (saw ${most} at once)`);
});

test('a read error surfaces when its file is read, after the files before it', async () => {
  const probe = { started: 0, drainedBytes: 0 };
  async function* source(): AsyncGenerator<Entry> {
    yield fileEntry('a', [10, 10], probe);
    yield fileEntry('b', [10, 10, 10], probe, 1);
    yield fileEntry('c', [10], probe);
  }
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const entry of prefetchFiles(source())) {
      if (entry.kind === 'file') await collect(entry.content);
      got.push(entry.path);
    }
  }, /read error in b/);
  assert.deepEqual(got, ['a']);
});
