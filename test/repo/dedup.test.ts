/** Deduplication: unchanged data adds almost nothing, changed data adds about its share. */
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
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

const SIZE = 32 * 1024 * 1024;

test('a stream: the same data again adds < 1%; 5% changed adds about 5%', async (t) => {
  const r = await testRepo(t);
  const base = join(r.dir, 'base.bin');
  const changed = join(r.dir, 'changed.bin');
  await writeMixed(base, { size: SIZE, seed: 3 });
  await writeMixed(changed, { size: SIZE, seed: 3, change: { fraction: 0.05, seed: 7 } });
  // What really differs (by 64 KiB block): about 6% for these seeds.
  const a = await readFile(base);
  const b = await readFile(changed);
  let differing = 0;
  for (let at = 0; at < a.length; at += 65536) if (!a.subarray(at, at + 65536).equals(b.subarray(at, at + 65536))) differing += Math.min(65536, a.length - at);
  assert.ok(differing > 0.03 * SIZE && differing < 0.08 * SIZE, `${differing} bytes differ`);
  const first = json<Summary>(ok(await r.run(['snapshot', '--stdin', 'db.sql', '--json'], { inputFile: base })));
  assert.equal(first.summary.newBytes, SIZE);
  const again = json<Summary>(ok(await r.run(['snapshot', '--stdin', 'db.sql', '--json'], { inputFile: base })));
  assert.equal(again.summary.newBytes, 0);
  assert.ok(again.summary.storedBytes < first.summary.storedBytes / 100, `second snapshot stored ${again.summary.storedBytes} bytes`);
  const third = json<Summary>(ok(await r.run(['snapshot', '--stdin', 'db.sql', '--json'], { inputFile: changed })));
  // Every changed byte is new; beyond that only the chunks the changes straddle (about 1 MiB at each
  // edge of each changed region, 8 MiB at the very most).
  const added = third.summary.newBytes;
  assert.ok(added >= differing - 65536, `added ${added} < changed ${differing}`);
  assert.ok(added <= differing + 8 * 1024 * 1024, `added ${added} bytes for ${differing} changed`);
  const restored = ok(await r.run(['cat', 'latest:db.sql']));
  assert.ok(restored.stdout.equals(b));
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
