/**
 * MariaDB's REWRITE flag (0x02) through `sluice xbstream -x`: it may replace only a file this same
 * extraction created; a file the user already had in the target needs --overwrite, as for any chunk.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runSluice } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { eofChunk, fileChunks, payloadChunk, renameChunk, seekChunk } from '../helpers/xbstream-builder.js';

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

test('a pre-existing file renamed by the stream is still not ours to rewrite', async (t) => {
  const target = await tempDir(t);
  await writeFile(join(target, 'old.frm'), 'the user data');
  const stream = Buffer.concat([renameChunk('old.frm', 'new.frm'), payloadChunk('new.frm', 'replaced', { flags: REWRITE }), eofChunk('new.frm', REWRITE)]);
  const result = await runSluice(['xbstream', '-x', '-C', target], { input: stream });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /already exists.*file "new.frm", chunk 2\b/);
  assert.equal(await readFile(join(target, 'new.frm'), 'utf8'), 'the user data');
});
