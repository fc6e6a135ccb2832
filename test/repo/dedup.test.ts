/** Deduplication: unchanged data adds almost nothing, changed data adds about its share. */
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { mixedStream, type MixedStreamOptions } from '../../bench/repo/mixed-stream.js';
import { ok } from '../helpers/cli.js';
import { makeTree, pseudoRandomBytes } from '../helpers/tree.js';
import { json, testRepo } from './helpers.js';

interface Summary {
  summary: { bytes: number; newBytes: number; storedBytes: number };
}

async function writeMixed(path: string, options: MixedStreamOptions): Promise<void> {
  const out = createWriteStream(path);
  for await (const piece of mixedStream(options)) if (!out.write(piece)) await new Promise((r) => out.once('drain', r));
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

const SIZE = 24 * 1024 * 1024;

test('a stream: the same data again adds < 1%; 5% changed adds about 5%', async (t) => {
  const r = await testRepo(t);
  const base = join(r.dir, 'base.bin');
  const changed = join(r.dir, 'changed.bin');
  await writeMixed(base, { size: SIZE, seed: 3 });
  await writeMixed(changed, { size: SIZE, seed: 3, change: { fraction: 0.05, seed: 99 } });
  const first = json<Summary>(ok(await r.run(['snapshot', '--stdin', 'db.sql', '--json'], { inputFile: base })));
  assert.equal(first.summary.newBytes, SIZE);
  const again = json<Summary>(ok(await r.run(['snapshot', '--stdin', 'db.sql', '--json'], { inputFile: base })));
  assert.equal(again.summary.newBytes, 0);
  assert.ok(again.summary.storedBytes < first.summary.storedBytes / 100, `second snapshot stored ${again.summary.storedBytes} bytes`);
  const third = json<Summary>(ok(await r.run(['snapshot', '--stdin', 'db.sql', '--json'], { inputFile: changed })));
  const share = third.summary.newBytes / SIZE;
  assert.ok(share > 0.02 && share < 0.2, `5% changed data added ${(share * 100).toFixed(1)}% new bytes`);
  const restored = ok(await r.run(['cat', 'latest:db.sql']));
  const { readFile } = await import('node:fs/promises');
  assert.ok(restored.stdout.equals(await readFile(changed)));
});

test('a tree: unchanged files are not even read again (parent snapshot), changed ones are', async (t) => {
  const r = await testRepo(t);
  const src = join(r.dir, 'src');
  const spec: Record<string, Uint8Array> = {};
  for (let i = 0; i < 40; i++) spec[`d${i % 4}/f${i}.bin`] = pseudoRandomBytes(50_000 + i, i);
  await makeTree(src, spec);
  const first = json<Summary>(ok(await r.run(['snapshot', src, '--json'])));
  const again = json<Summary>(ok(await r.run(['snapshot', src, '--json'])));
  assert.equal(again.summary.newBytes, 0);
  assert.equal(again.summary.bytes, first.summary.bytes);
  assert.ok(again.summary.storedBytes < first.summary.storedBytes / 100);
  // Change two files (5%); keep their size and force distinct mtimes.
  for (const i of [3, 17]) {
    const path = join(src, `d${i % 4}`, `f${i}.bin`);
    await writeFile(path, pseudoRandomBytes(50_000 + i, 1000 + i));
    await utimes(path, new Date(), new Date(Date.now() + 5000));
  }
  const third = json<Summary>(ok(await r.run(['snapshot', src, '--json'])));
  assert.ok(third.summary.newBytes >= 100_000 && third.summary.newBytes < 110_000, `new bytes ${third.summary.newBytes}`);
  // --force reads everything again but still stores nothing new.
  const forced = json<Summary>(ok(await r.run(['snapshot', src, '--force', '--json'])));
  assert.equal(forced.summary.newBytes, 0);
});
