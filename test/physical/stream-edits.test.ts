/**
 * Edits of files already written (MariaDB's remove and rename chunks, a file sent again), as
 * `backup --mariadb --stream` passes them on: the writer puts them between files, `mbstream -x` and
 * `sluice xbstream -x` both end with the tree the edits describe, and the names follow the pipeline's.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readXbstream } from '../../src/container/xbstream/reader.js';
import { writeXbstream, type XbstreamFileEdit } from '../../src/container/xbstream/writer.js';
import { type FileEntry, toSafePath } from '../../src/entry.js';
import { StreamEdits } from '../../src/physical/stream-edits.js';
import { ok, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

function file(path: string, text: string): FileEntry {
  return {
    kind: 'file',
    path: toSafePath(path),
    mode: 0o640,
    mtimeMs: 0,
    content: (async function* () {
      if (text.length > 0) yield Buffer.from(text);
    })(),
  };
}

async function* listed<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

async function collect(bytes: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of bytes) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
}

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(join(dir, name), 'utf8');
  return out;
}

test('remove, rename and a file sent again go out between files; mbstream -x and sluice xbstream -x end with the edited tree', async (t) => {
  const dir = await tempDir(t, 'sluice-stream-edits-');
  // after x: x renamed to z; after y: y renamed to w (the next file is empty: a lone E after an R);
  // then z comes again (a rewrite of the renamed x); q is removed at the end
  const edits: Record<number, XbstreamFileEdit[]> = {
    1: [{ type: 'rename', path: 'x', to: 'z' }],
    2: [{ type: 'rename', path: 'y', to: 'w' }],
    5: [{ type: 'remove', path: 'q' }],
  };
  const asked: number[] = [];
  const bytes = await collect(
    writeXbstream(listed([file('x', 'hello'), file('y', 'world'), file('e', ''), file('z', 'HI'), file('q', 'gone')]), {
      parallel: 2,
      edits: (files) => {
        asked.push(files);
        return edits[files] ?? [];
      },
    }),
  );
  assert.deepEqual(asked, [0, 1, 2, 3, 4, 5], 'asked before each file and once at the end');
  await writeFile(join(dir, 'out.xb'), bytes);

  const events: string[] = [];
  for await (const e of readXbstream(listed([bytes]))) {
    if (e.type === 'rename') events.push(`R ${e.path}>${e.to}`);
    else if (e.type === 'remove') events.push(`D ${e.path}`);
    else if (e.type === 'data') events.push(`P ${e.path}@${e.offset}+${e.data.length}${e.rewrite ? ' rewrite' : ''}`);
    else if (e.type === 'eof') events.push(`E ${e.path}${e.rewrite === true ? ' rewrite' : ''}`);
  }
  assert.deepEqual(events, [
    'P x@0+5', 'E x',
    'R x>z',
    'P y@0+5', 'E y',
    'R y>w',
    // mbstream 10.11 fails on an E right after an R: an empty P goes first
    'P e@0+0', 'E e',
    'P z@0+2 rewrite', 'E z rewrite',
    'P q@0+4', 'E q',
    'D q',
  ]);

  const expected = { e: '', w: 'world', z: 'HI' };
  const upstream = await sh('mkdir mb && mbstream -x -C mb < out.xb', { cwd: dir });
  ok(upstream, 'mbstream -x');
  assert.equal(upstream.stderr, '', 'mbstream says nothing (it reports some failures with status 0)');
  assert.deepEqual(await tree(join(dir, 'mb')), expected);
  ok(await sh('$SLUICE xbstream -x -C ours < out.xb', { cwd: dir }), 'sluice xbstream -x');
  assert.deepEqual(await tree(join(dir, 'ours')), expected);
});

test('without edits, a plain stream keeps flags 0 and no empty chunks', async () => {
  const bytes = await collect(writeXbstream(listed([file('a', 'one'), file('b', '')])));
  const flags: number[] = [];
  for (let at = bytes.indexOf('XBSTCK01'); at >= 0; at = bytes.indexOf('XBSTCK01', at + 1)) flags.push(bytes[at + 8] as number);
  assert.deepEqual(flags, [0, 0, 0], 'P a, E a, E b');
});

test('StreamEdits: edits by the names the pipeline wrote, in stream order; edits of files never sent are dropped', () => {
  const edits = new StreamEdits();
  edits.sent('db/t.MAD', 'db/t.MAD.zst');
  edits.sent('db/u.frm', 'db/u.frm.zst.age');
  edits.add({ type: 'rename', path: toSafePath('db/t.MAD'), to: toSafePath('db/v.MAD'), after: 2 });
  edits.add({ type: 'rename', path: toSafePath('db/never.MAD'), to: toSafePath('db/other.MAD'), after: 2 });
  edits.add({ type: 'remove', path: toSafePath('db/v.MAD'), after: 3 });
  edits.add({ type: 'remove', path: toSafePath('db/u.frm'), after: 3 });
  assert.deepEqual(edits.after(1), [], 'nothing came after the first file alone');
  assert.deepEqual(edits.after(2), [{ type: 'rename', path: 'db/t.MAD.zst', to: 'db/v.MAD.zst' }]);
  assert.equal(edits.dropped, 1);
  assert.deepEqual(edits.after(3), [
    { type: 'remove', path: 'db/v.MAD.zst' },
    { type: 'remove', path: 'db/u.frm.zst.age' },
  ]);
  assert.deepEqual(edits.after(10), [], 'each edit is given once');
});
