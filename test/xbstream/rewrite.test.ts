/**
 * MariaDB's REWRITE flag (0x02) through `sluice xbstream -x`: it may replace only a file this same
 * extraction created; a file the user already had in the target needs --overwrite, as for any chunk.
 * Remove and rename chunks follow the same rule.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runSluice } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { eofChunk, fileChunks, payloadChunk, removeChunk, renameChunk, seekChunk } from '../helpers/xbstream-builder.js';

const REWRITE = 0x02;

test('a rewrite-flagged chunk does not replace a file that was in the target before (without --overwrite)', async (t) => {
  const target = await tempDir(t);
  await writeFile(join(target, 'mine.txt'), 'the user data');
  const first = fileChunks('other.txt', Buffer.from('fine'));
  const stream = Buffer.concat([first, payloadChunk('mine.txt', 'from the stream', { flags: REWRITE }), eofChunk('mine.txt', REWRITE)]);
  const result = await runSluice(['xbstream', '-x', '-C', target], { input: stream });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /already exists/);
  assert.match(result.stderr, /rewrite flag/);
  assert.ok(result.stderr.includes('file "mine.txt"'), result.stderr);
  assert.match(result.stderr, /chunk 3\b/);
  assert.match(result.stderr, new RegExp(`stream offset ${first.length}\\b`));
  assert.equal(await readFile(join(target, 'mine.txt'), 'utf8'), 'the user data');
  assert.deepEqual((await readdir(target)).filter((n) => n.includes('sluice-partial')), []);

  const forced = await runSluice(['xbstream', '-x', '--overwrite', '-C', target], { input: stream });
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(await readFile(join(target, 'mine.txt'), 'utf8'), 'from the stream');
});

test('a rewrite-flagged E or seek chunk does not replace a pre-existing file either', async (t) => {
  for (const chunks of [[eofChunk('mine.txt', REWRITE)], [seekChunk('mine.txt', 0, REWRITE), eofChunk('mine.txt')]]) {
    const target = await tempDir(t);
    await writeFile(join(target, 'mine.txt'), 'the user data');
    const result = await runSluice(['xbstream', '-x', '-C', target], { input: Buffer.concat(chunks) });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /already exists.*file "mine.txt", chunk 1, stream offset 0\b/);
    assert.equal(await readFile(join(target, 'mine.txt'), 'utf8'), 'the user data');
  }
});

test('files this extraction created may be rewritten, also under a name they were renamed to, and by an E-only rewrite', async (t) => {
  const target = await tempDir(t);
  const stream = Buffer.concat([
    fileChunks('a.ibd', Buffer.from('first version')),
    payloadChunk('a.ibd', 'second', { flags: REWRITE }),
    eofChunk('a.ibd', REWRITE),
    renameChunk('a.ibd', 'b.ibd'),
    payloadChunk('b.ibd', 'third', { flags: REWRITE }),
    eofChunk('b.ibd', REWRITE),
    fileChunks('empty.ibd', Buffer.from('soon empty')),
    eofChunk('empty.ibd', REWRITE),
    payloadChunk('new.ibd', 'flagged from the start', { flags: REWRITE }),
    eofChunk('new.ibd', REWRITE),
  ]);
  const result = await runSluice(['xbstream', '-x', '-C', target], { input: stream });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual((await readdir(target)).sort(), ['b.ibd', 'empty.ibd', 'new.ibd']);
  assert.equal(await readFile(join(target, 'b.ibd'), 'utf8'), 'third');
  assert.equal(await readFile(join(target, 'empty.ibd'), 'utf8'), '');
  assert.equal(await readFile(join(target, 'new.ibd'), 'utf8'), 'flagged from the start');
});

test('remove and rename chunks do not touch files that were in the target before (without --overwrite)', async (t) => {
  const cases: [string, Buffer, RegExp][] = [
    ['remove', removeChunk('old.frm'), /the remove chunk would delete a file that was in the target directory before this extraction.*file "old.frm", chunk 1\b/],
    ['move', renameChunk('old.frm', 'new.frm'), /the rename chunk would move a file that was in the target directory before.*file "old.frm", chunk 1\b/],
    [
      'replace',
      Buffer.concat([fileChunks('ours.frm', Buffer.from('from the stream')), renameChunk('ours.frm', 'old.frm')]),
      /the rename chunk \(from "ours.frm"\) would replace a file that was in the target directory before.*file "old.frm", chunk 3\b/,
    ],
  ];
  for (const [what, stream, message] of cases) {
    const target = await tempDir(t);
    await writeFile(join(target, 'old.frm'), 'the user data');
    const result = await runSluice(['xbstream', '-x', '-C', target], { input: stream });
    assert.equal(result.status, 1, `${what}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(await readFile(join(target, 'old.frm'), 'utf8'), 'the user data', what);
    const forced = await runSluice(['xbstream', '-x', '--overwrite', '-C', target], { input: stream });
    assert.equal(forced.status, 0, `${what} with --overwrite: ${forced.stderr}`);
    assert.equal(existsSync(join(target, 'old.frm')), what !== 'remove' && what !== 'move', what);
  }
});

test('files this extraction created may be removed and renamed, with their directories', async (t) => {
  const target = await tempDir(t);
  const stream = Buffer.concat([
    fileChunks('db/a.frm', Buffer.from('a')),
    fileChunks('db/b.frm', Buffer.from('b')),
    removeChunk('db/a.frm'),
    renameChunk('db', 'db2'),
    renameChunk('db2/b.frm', 'db2/c.frm'),
    payloadChunk('db2/c.frm', 'rewritten', { flags: REWRITE }),
    eofChunk('db2/c.frm', REWRITE),
  ]);
  const result = await runSluice(['xbstream', '-x', '-C', target], { input: stream });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(await readdir(target), ['db2']);
  assert.deepEqual(await readdir(join(target, 'db2')), ['c.frm']);
  assert.equal(await readFile(join(target, 'db2', 'c.frm'), 'utf8'), 'rewritten');
});

test('a rename of a file the stream never sent is skipped with a warning, as mbstream does (mariabackup emits them under DDL)', async (t) => {
  const target = await tempDir(t);
  const stream = Buffer.concat([fileChunks('db/a.frm', Buffer.from('a')), renameChunk('db/new.frm', 'db/renamed.frm'), fileChunks('db/b.frm', Buffer.from('b'))]);
  const result = await runSluice(['xbstream', '-x', '-C', target], { input: stream });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /rename chunk for "db\/new.frm" to "db\/renamed.frm": no such file \(chunk 3\)/);
  assert.deepEqual((await readdir(join(target, 'db'))).sort(), ['a.frm', 'b.frm']);

  const mbstream = await tempDir(t);
  const { spawnSync } = await import('node:child_process');
  const stock = spawnSync('mbstream', ['-x', '-C', mbstream], { input: stream });
  assert.equal(stock.status, 0, stock.stderr.toString());
  assert.deepEqual((await readdir(join(mbstream, 'db'))).sort(), ['a.frm', 'b.frm']);
});
