/**
 * A stream may keep any number of files open (P chunks of 20,000 files before their E chunks is a legal
 * xbstream), far more than a process may open (`ulimit -n`). The extractor keeps a bounded number of
 * descriptors open and reopens files as their chunks come; on failure it removes every incomplete file.
 * The CLI runs under a lowered descriptor limit so the test means the same wherever it runs.
 */
import assert from 'node:assert/strict';
import { constants, readdirSync, readFileSync } from 'node:fs';
import { access, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readXbstream } from '../../src/container/xbstream/reader.js';
import { applyXbstreamEvents } from '../../src/sink/apply-xbstream.js';
import { DirectorySink } from '../../src/sink/dir.js';
import { runSluice, sh } from '../helpers/cli.js';
import { type TestContextLike, tempDir } from '../helpers/tmp.js';
import { describeTree } from '../helpers/tree.js';
import { eofChunk, payloadChunk, renameChunk, seekChunk } from '../helpers/xbstream-builder.js';

const FILES = 20_000;
const name = (i: number): string => `d${i % 16}/f${i}`;
const content = (i: number): string => `file ${i}\n`;

/** The P chunks of every file, then (unless truncated) all their E chunks. */
function stream(files: number, withEof: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < files; i++) parts.push(payloadChunk(name(i), content(i)));
  if (withEof) for (let i = 0; i < files; i++) parts.push(eofChunk(name(i)));
  return Buffer.concat(parts);
}

/** 20,000 files are created in memory when the machine has a tmpfs (three times faster than on disk here). */
async function manyFilesDir(t: TestContextLike): Promise<string> {
  try {
    await access('/dev/shm', constants.W_OK);
  } catch {
    return tempDir(t);
  }
  const dir = await mkdtemp('/dev/shm/sluice-test-');
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function filesIn(dir: string): Promise<string[]> {
  return (await describeTree(dir)).filter((e) => e.kind === 'file').map((e) => e.path);
}

test(`${FILES} files open at once extract completely under ulimit -n 1024`, async (t) => {
  const root = await manyFilesDir(t);
  const input = join(root, 'many.xbstream');
  await writeFile(input, stream(FILES, true));
  const target = join(root, 'out');
  const result = await sh(`ulimit -n 1024 && $SLUICE xbstream -x -C ${JSON.stringify(target)} < ${JSON.stringify(input)}`);
  assert.equal(result.status, 0, result.stderr);
  const dirs = await readdir(target);
  assert.equal(dirs.length, 16);
  let count = 0;
  for (const dir of dirs) count += (await readdir(join(target, dir))).length;
  assert.equal(count, FILES);
  for (let i = 0; i < FILES; i += 1) {
    const got = readFileSync(join(target, name(i)), 'utf8'); // a thread-pool round trip each would take seconds
    if (got !== content(i)) assert.fail(`${name(i)}: ${JSON.stringify(got)}`);
  }
});

test(`${FILES} files open and no E chunk: a clear error, and none of the files is left`, async (t) => {
  const root = await manyFilesDir(t);
  const input = join(root, 'truncated.xbstream');
  const bytes = stream(FILES, false);
  await writeFile(input, bytes);
  const target = join(root, 'out');
  const result = await sh(`ulimit -n 1024 && $SLUICE xbstream -x -C ${JSON.stringify(target)} < ${JSON.stringify(input)}`);
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`stream ended before ${FILES} file\\(s\\) were complete \\(no E chunk\\)`));
  assert.ok(result.stderr.includes(`file "${name(0)}", chunk ${FILES}, stream offset ${bytes.length}`), result.stderr);
  assert.match(result.stderr, new RegExp(`removed ${FILES} incomplete file\\(s\\)`));
  assert.doesNotMatch(result.stderr, /EMFILE/);
  assert.deepEqual(await filesIn(target), []);
});

test('when the system refuses to open another file, the error names the file, chunk and offset', async (t) => {
  const root = await tempDir(t);
  const input = join(root, 'some.xbstream');
  const parts: Buffer[] = [];
  for (let i = 0; i < 400; i++) parts.push(payloadChunk(`f${i}`, 'x'));
  await writeFile(input, Buffer.concat(parts));
  const target = join(root, 'out');
  // Fewer descriptors than the extractor's own budget: opening a file fails with EMFILE.
  const result = await sh(`ulimit -n 128 && $SLUICE xbstream -x -C ${JSON.stringify(target)} < ${JSON.stringify(input)}`);
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /too many open files.*ulimit -n.*\[file "f\d+", chunk \d+, stream offset \d+/);
  assert.match(result.stderr, /removed \d+ incomplete file\(s\)/);
  assert.deepEqual(await filesIn(target), []);
});

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

test('files interleaved beyond the descriptor budget are reopened and written correctly; descriptors stay bounded', async (t) => {
  const files = 200;
  const rounds = 3;
  const limit = 16;
  const parts: Buffer[] = [];
  // a seek before each piece makes the extractor write it at once (contiguous pieces would wait in a batch)
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < files; i++) parts.push(seekChunk(name(i), r * 64), payloadChunk(name(i), `${r}:${content(i)}`, { offset: r * 64 }));
  }
  for (let i = 0; i < files; i++) parts.push(eofChunk(name(i)));
  const bytes = Buffer.concat(parts);
  const root = await tempDir(t);
  for (const [parallel, synchronousWrites] of [[1, true], [1, false], [4, false]] as const) {
    const target = join(root, `out-${parallel}-${synchronousWrites}`);
    const sink = await DirectorySink.create(target, { synchronousWrites, maxOpenFiles: limit });
    const before = openDescriptors();
    let most = 0;
    async function* input(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < bytes.length; at += 4096) {
        most = Math.max(most, openDescriptors());
        yield bytes.subarray(at, at + 4096);
      }
    }
    const summary = await applyXbstreamEvents(readXbstream(input()), sink, { parallel });
    assert.equal(summary.files, files);
    // the budget, plus closes still completing on libuv's threads
    assert.ok(most - before <= limit + 4 * parallel, `${most - before} descriptors open beyond the ${before} before (limit ${limit})`);
    for (let i = 0; i < files; i++) {
      const got = await readFile(join(target, name(i)));
      const want = Buffer.alloc((rounds - 1) * 64 + `${rounds - 1}:${content(i)}`.length);
      for (let r = 0; r < rounds; r++) want.write(`${r}:${content(i)}`, r * 64);
      assert.deepEqual(got, want, name(i));
    }
  }
});

test('a file replaced on disk while its descriptor was closed is not written into, nor removed', async (t) => {
  const target = await tempDir(t);
  const sink = await DirectorySink.create(target, { maxOpenFiles: 1 });
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 200));
  async function* input(): AsyncGenerator<Uint8Array> {
    yield Buffer.concat([payloadChunk('a', 'first'), seekChunk('a', 5), payloadChunk('b', 'other')]);
    await settle();
    yield payloadChunk('c', 'third');
    await settle();
    // `a`, least recently used, is closed now (the budget is one descriptor): put another file in its place
    await unlink(join(target, 'a'));
    await writeFile(join(target, 'a'), 'not yours');
    yield Buffer.concat([payloadChunk('a', 'more', { offset: 5 }), eofChunk('a'), eofChunk('b'), eofChunk('c')]);
  }
  await assert.rejects(applyXbstreamEvents(readXbstream(input()), sink), /replaced by another.*file "a", chunk 5\b/);
  assert.equal(await readFile(join(target, 'a'), 'utf8'), 'not yours');
});

test('a rename chunk cannot move the directory of a file still being written', async (t) => {
  const target = await tempDir(t);
  const bytes = Buffer.concat([payloadChunk('d/x', 'data'), renameChunk('d', 'e'), payloadChunk('d/x', 'more', { offset: 4 }), eofChunk('d/x')]);
  const result = await runSluice(['xbstream', '-x', '-C', target], { input: bytes });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /cannot rename a directory holding "d\/x", which is still being written \[file "d", chunk 2\b/);
  assert.deepEqual(await filesIn(target), []);
});
