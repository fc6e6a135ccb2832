/**
 * Hostile streams through `sluice xbstream -x`: each must fail with a message naming the file, chunk and
 * stream offset, exit non-zero, leave no incomplete file looking complete, and change nothing outside
 * the target directory (which holds a planted symlink to the outside).
 */
import assert from 'node:assert/strict';
import { readdir, readFile, symlink, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readXbstream } from '../../src/container/xbstream/reader.js';
import { applyXbstreamEvents } from '../../src/sink/apply-xbstream.js';
import { DirectorySink } from '../../src/sink/dir.js';
import { runSluice } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree } from '../helpers/tree.js';
import { eofChunk, payloadChunk, removeChunk, renameChunk, fileChunks } from '../helpers/xbstream-builder.js';

interface Sandbox {
  root: string;
  target: string;
  outsideBefore: Awaited<ReturnType<typeof describeTree>>;
}

async function sandbox(t: { after(fn: () => unknown): void }): Promise<Sandbox> {
  const root = await tempDir(t);
  await mkdir(join(root, 'outside'));
  await writeFile(join(root, 'outside', 'victim.txt'), 'do not touch');
  await writeFile(join(root, 'victim.txt'), 'do not touch either');
  const target = join(root, 'target');
  await mkdir(target);
  await symlink('../outside', join(target, 'planted'));
  return { root, target, outsideBefore: await describeTree(root, { skip: (p) => p.startsWith('target') }) };
}

async function extractFails(t: { after(fn: () => unknown): void }, stream: Buffer, expect: { message: RegExp; status?: number; chunk?: number; offset?: number; file?: string }): Promise<Sandbox> {
  const box = await sandbox(t);
  const result = await runSluice(['xbstream', '-x', '-C', box.target], { input: stream });
  assert.notEqual(result.status, 0, `expected failure, stderr: ${result.stderr}`);
  if (expect.status !== undefined) assert.equal(result.status, expect.status, result.stderr);
  assert.match(result.stderr, expect.message);
  if (expect.chunk !== undefined) assert.match(result.stderr, new RegExp(`chunk ${expect.chunk}\\b`), result.stderr);
  if (expect.offset !== undefined) assert.match(result.stderr, new RegExp(`stream offset ${expect.offset}\\b`), result.stderr);
  if (expect.file !== undefined) assert.ok(result.stderr.includes(`file ${JSON.stringify(expect.file)}`), result.stderr);
  assert.deepEqual(await describeTree(box.root, { skip: (p) => p.startsWith('target') }), box.outsideBefore, 'the world outside the target changed');
  const leftovers = (await describeTree(box.target)).filter((i) => i.path.includes('.sluice-partial-'));
  assert.deepEqual(leftovers, [], 'temporary files were left behind');
  return box;
}

const good = fileChunks('good.txt', Buffer.from('fine'));

test('wrong magic at the start and trailing garbage after the last chunk', async (t) => {
  await extractFails(t, Buffer.from('NOTXBSTREAM-at-all-here'), { message: /wrong magic "NOTXBSTR"/, chunk: 1, offset: 0 });
  await extractFails(t, Buffer.concat([good, Buffer.from('garbage-after-the-end')]), { message: /wrong magic/, chunk: 3, offset: good.length });
});

test('truncation inside a header, a path, a payload header and a payload', async (t) => {
  const one = payloadChunk('data.bin', Buffer.alloc(100, 1));
  for (const cut of [5, 14 + 3, 14 + 8 + 10, one.length - 1]) {
    await extractFails(t, one.subarray(0, cut), { message: /truncated/, chunk: 1, offset: cut <= 14 ? 0 : undefined });
  }
});

test('a file with no E chunk at the end of input is an error and is not left on disk', async (t) => {
  const box = await extractFails(t, Buffer.concat([good, payloadChunk('cut.bin', 'partial')]), {
    message: /ended before 1 file\(s\) were complete \(no E chunk\): "cut.bin"/,
    file: 'cut.bin',
  });
  assert.deepEqual(await readdir(box.target).then((n) => n.sort()), ['good.txt', 'planted']);
  assert.equal(await readFile(join(box.target, 'good.txt'), 'utf8'), 'fine');
});

test('a CRC mismatch exits 4 and removes the partial file', async (t) => {
  const bad = payloadChunk('x.ibd', 'hello', { crc: 0x12345678 });
  const box = await extractFails(t, Buffer.concat([good, bad, eofChunk('x.ibd')]), {
    message: /checksum mismatch: expected 0x12345678, computed 0x3610a686/,
    status: 4,
    chunk: 3,
    offset: good.length,
    file: 'x.ibd',
  });
  assert.deepEqual((await readdir(box.target)).sort(), ['good.txt', 'planted']);
});

test('out-of-order and overlapping offsets', async (t) => {
  await extractFails(t, payloadChunk('f', 'abc', { offset: 100 }), { message: /offset 100, expected 0/, chunk: 1, file: 'f' });
  const overlap = Buffer.concat([payloadChunk('f', 'abc'), payloadChunk('f', 'def', { offset: 1 })]);
  await extractFails(t, overlap, { message: /offset 1, expected 3/, chunk: 2, file: 'f' });
});

test('path length 512 and payload lengths beyond the cap', async (t) => {
  await extractFails(t, payloadChunk('p'.repeat(512), 'x'), { message: /path length 512 is too large/, chunk: 1, offset: 0 });
  await extractFails(t, payloadChunk('huge', 'x', { length: 2n ** 40n }), { message: /payload length 1099511627776 exceeds the limit/, file: 'huge' });
  await extractFails(t, payloadChunk('u64', 'x', { offset: 2n ** 63n }), { message: /payload offset .* exceeds/ });
});

test('unknown chunk types: refused unless ignorable, and an ignorable one is never written', async (t) => {
  await extractFails(t, payloadChunk('z', 'data', { type: 'Z' }), { message: /unknown chunk type 'Z' 0x5a/, chunk: 1 });
  const box = await sandbox(t);
  const ignorable = Buffer.concat([payloadChunk('ignored.bin', 'data', { type: 'Z', flags: 1 }), good]);
  const result = await runSluice(['xbstream', '-x', '-C', box.target], { input: ignorable });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /skipped an ignorable chunk of unknown type 0x5a/);
  assert.deepEqual((await readdir(box.target)).sort(), ['good.txt', 'planted']);
});

test('unsafe paths in P chunks are refused before anything is written', async (t) => {
  const cases: [string | Buffer, RegExp][] = [
    ['/abs/evil', /absolute/],
    ['../evil', /".." component/],
    ['a/../../evil', /".." component/],
    ['./x', /"." component/],
    ['', /empty/],
    [Buffer.from('nul\0hidden'), /contains NUL/],
    ['planted/victim.txt', /refusing to pass through the symlink "planted"/],
    ['planted/new.txt', /refusing to pass through the symlink "planted"/],
  ];
  for (const [path, message] of cases) {
    await extractFails(t, Buffer.concat([payloadChunk(path, 'evil'), eofChunk(path)]), { message, chunk: 1 });
  }
});

test('unsafe paths in D and R chunks (both names) are refused, and D/R never reach outside', async (t) => {
  const cases: [Buffer, RegExp][] = [
    [removeChunk('../victim.txt'), /".." component/],
    [removeChunk('/etc/passwd'), /absolute/],
    [removeChunk('planted/victim.txt'), /symlink "planted"/],
    [renameChunk('good.txt', '../renamed'), /".." component/],
    [renameChunk('../victim.txt', 'stolen.txt'), /".." component/],
    [renameChunk('planted/victim.txt', 'stolen.txt'), /symlink "planted"/],
    [renameChunk('good.txt', 'planted/moved.txt'), /symlink "planted"/],
  ];
  for (const [chunk, message] of cases) {
    await extractFails(t, Buffer.concat([good, chunk]), { message, chunk: 3, offset: good.length });
  }
});

test('a file sent again after its E chunk: an error without the rewrite flag, a replacement with it', async (t) => {
  await extractFails(t, Buffer.concat([good, fileChunks('good.txt', Buffer.from('evil'))]), { message: /appears again after its end/, file: 'good.txt', chunk: 3 });
  const box = await sandbox(t);
  const rewritten = Buffer.concat([good, payloadChunk('good.txt', 'new content', { flags: 2 }), eofChunk('good.txt', 2)]);
  const result = await runSluice(['xbstream', '-x', '-C', box.target], { input: rewritten });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(await readFile(join(box.target, 'good.txt'), 'utf8'), 'new content');
});

test('an existing file in the target is not overwritten (unless --overwrite)', async (t) => {
  const box = await sandbox(t);
  await writeFile(join(box.target, 'good.txt'), 'original');
  const refused = await runSluice(['xbstream', '-x', '-C', box.target], { input: good });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /already exists/);
  assert.equal(await readFile(join(box.target, 'good.txt'), 'utf8'), 'original');
  const forced = await runSluice(['xbstream', '-x', '--overwrite', '-C', box.target], { input: good });
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(await readFile(join(box.target, 'good.txt'), 'utf8'), 'fine');
});

test('truncated at every byte: only files whose E chunk arrived exist, each complete, nothing else', async (t) => {
  const stream = Buffer.concat([fileChunks('one.txt', Buffer.from('first file')), fileChunks('dir/two.txt', Buffer.from('second')), fileChunks('three', Buffer.alloc(0))]);
  const ends = new Map<number, string>();
  let at = 0;
  for (const [name, data] of [['one.txt', 'first file'], ['dir/two.txt', 'second'], ['three', '']] as const) {
    const len = fileChunks(name, Buffer.from(data)).length;
    at += len;
    ends.set(at, name);
  }
  const root = await tempDir(t);
  for (let cut = 1; cut < stream.length; cut++) {
    const target = join(root, String(cut));
    const sink = await DirectorySink.create(target);
    async function* input(): AsyncGenerator<Uint8Array> {
      yield stream.subarray(0, cut);
    }
    const complete = [...ends].filter(([end]) => end <= cut).map(([, name]) => name);
    if (ends.has(cut)) {
      await applyXbstreamEvents(readXbstream(input()), sink);
    } else {
      await assert.rejects(applyXbstreamEvents(readXbstream(input()), sink), /truncated|no E chunk/, `cut at ${cut}`);
    }
    const files = (await describeTree(target)).filter((i) => i.kind === 'file').map((i) => i.path).sort();
    assert.deepEqual(files, complete.map((n) => n).sort(), `cut at ${cut}`);
  }
});
