/** What a user sees from backup, xbstream and verify: refusals, checksums, progress, listings, reports. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, runSluice, sh, SLUICE_JS } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree, makeTree, pseudoRandomBytes, sha256 } from '../helpers/tree.js';
import { payloadChunk, eofChunk } from '../helpers/xbstream-builder.js';

test('a stream is never written to a terminal', async (t) => {
  const dir = await tempDir(t);
  await makeTree(dir, { f: 'x' });
  // script(1) gives the command a pseudo-terminal for stdin, stdout and stderr.
  const result = await sh(`script -qec "$SLUICE backup --stream ${dir}; echo status=\\$?" /dev/null`);
  const out = result.stdout.toString();
  assert.match(out, /refusing to write a binary stream to a terminal/);
  assert.match(out, /status=2/);
  assert.doesNotMatch(out, /XBSTCK01/);
});

test('--checksum-file holds the SHA-256 of exactly the bytes on stdout; --progress reports on stderr', async (t) => {
  const dir = await tempDir(t);
  await makeTree(join(dir, 'src'), { 'a.bin': pseudoRandomBytes(300_000, 1), 'b/c.txt': 'hello' });
  const sumFile = join(dir, 'sum');
  const result = ok(await runSluice(['backup', '--stream', '--progress', '--checksum-file', sumFile, join(dir, 'src')]));
  assert.equal(await readFile(sumFile, 'utf8'), `${sha256(result.stdout)}  -\n`);
  assert.match(result.stderr, /2 files/);
  const quiet = ok(await runSluice(['backup', '--stream', '--no-progress', join(dir, 'src')]));
  assert.equal(quiet.stderr, '');
  assert.deepEqual(quiet.stdout, result.stdout, 'the same tree gives the same stream');
});

test('--throttle limits the rate (a 600 KiB stream at 256K/s takes over 2 s)', async (t) => {
  const dir = await tempDir(t);
  await makeTree(dir, { 'f.bin': pseudoRandomBytes(600 * 1024, 2) });
  const started = performance.now();
  const result = ok(await runSluice(['backup', '--stream', '--throttle=256K', dir]));
  const seconds = (performance.now() - started) / 1000;
  assert.ok(result.stdout.length > 600 * 1024);
  assert.ok(seconds >= 2.0, `took ${seconds.toFixed(2)} s`);
});

test('xbstream -t lists path and size; verify prints per-file and stream SHA-256', async (t) => {
  const dir = await tempDir(t);
  const files = { 'one.bin': pseudoRandomBytes(12345, 3), 'sub/two.txt': Buffer.from('two'), 'empty': Buffer.alloc(0) };
  await makeTree(join(dir, 'src'), files);
  const stream = join(dir, 's.xbs');
  ok(await sh(`$SLUICE backup --stream ${dir}/src > ${stream}`));
  const listing = ok(await runSluice(['xbstream', '-t'], { inputFile: stream })).stdout.toString();
  assert.deepEqual(
    listing.trim().split('\n').map((l) => l.trim().split(/\s+/)),
    [['0', 'empty'], ['12345', 'one.bin'], ['3', 'sub/two.txt']],
  );
  const json = ok(await runSluice(['xbstream', '-t', '--json'], { inputFile: stream })).stdout.toString();
  assert.deepEqual(JSON.parse(json.split('\n')[1] as string), { path: 'one.bin', size: 12345 });

  const text = ok(await runSluice(['verify', stream])).stdout.toString();
  assert.ok(text.includes(`${sha256(files['one.bin'])}         12345  one.bin`), text);
  assert.ok(text.includes(`stream sha256 ${sha256(await readFile(stream))}`), text);
  const report = JSON.parse(ok(await runSluice(['verify', '--json'], { inputFile: stream })).stdout.toString());
  assert.equal(report.ok, true);
  assert.equal(report.stream.files, 3);
  assert.deepEqual(
    report.files.map((f: { path: string; sha256: string }) => [f.path, f.sha256]),
    [['empty', sha256('')], ['one.bin', sha256(files['one.bin'])], ['sub/two.txt', sha256('two')]],
  );
});

test('verify exits 4 on a CRC mismatch and 1 on truncation, with a JSON report saying why', async () => {
  const bad = Buffer.concat([payloadChunk('f', 'data', { crc: 1 }), eofChunk('f')]);
  const crc = await runSluice(['verify', '--json'], { input: bad });
  assert.equal(crc.status, 4);
  const report = JSON.parse(crc.stdout.toString());
  assert.equal(report.ok, false);
  assert.match(report.error, /checksum mismatch/);
  assert.equal(report.where.path, 'f');
  const cut = await runSluice(['verify'], { input: payloadChunk('f', 'data') });
  assert.equal(cut.status, 1);
  assert.match(cut.stderr, /no E chunk/);
});

test('usage errors exit 2 with a hint', async () => {
  const both = await runSluice(['xbstream', '-x', '-c', 'f']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /exactly one of -x/);
  const badFormat = await runSluice(['backup', '--stream=zip', '.']);
  assert.equal(badFormat.status, 2);
  const unknown = await runSluice(['frobnicate']);
  assert.equal(unknown.status, 2);
});

test('an interrupted backup exits 130 and says so', async (t) => {
  const dir = await tempDir(t);
  await makeTree(dir, { 'f.bin': pseudoRandomBytes(200_000, 4) });
  const { spawn } = await import('node:child_process');
  const { SLUICE_JS } = await import('../helpers/cli.js');
  const child = spawn(process.execPath, [SLUICE_JS, 'backup', '--stream', '--throttle=10K', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  // Interrupted once bytes flow: the command is running then (a fixed wait could end before node has started).
  await new Promise((r) => child.stdout.once('data', r));
  child.stdout.resume();
  child.kill('SIGINT');
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  assert.equal(status, 130);
  assert.match(stderr, /interrupted/);
});

test('extraction reads stdin whether it is a file, a pipe, or a pipe someone left non-blocking', async (t) => {
  const dir = await tempDir(t);
  await makeTree(join(dir, 'src'), { 'big.bin': pseudoRandomBytes(3_000_000, 21), 'd/e/small': 'tiny', empty: '' });
  const stream = join(dir, 'backup.xbstream');
  ok(await sh(`$SLUICE backup --stream ${dir}/src > ${stream}`));
  const expected = await describeTree(join(dir, 'src'));
  // O_NONBLOCK belongs to the pipe, not the process: set on the read end, it is what sluice inherits.
  const nonBlocking = `python3 -c 'import fcntl, os, sys; fcntl.fcntl(0, fcntl.F_SETFL, os.O_NONBLOCK); os.execvp("node", ["node"] + sys.argv[1:])'`;
  const ways = {
    file: (out: string) => `$SLUICE xbstream -x -C ${out} < ${stream}`,
    pipe: (out: string) => `cat ${stream} | $SLUICE xbstream -x -C ${out}`,
    // The pause makes the first read find the pipe empty: EAGAIN, then the stream that waits for data.
    'slow non-blocking pipe': (out: string) => `(sleep 1.5; cat ${stream}) | ${nonBlocking} ${SLUICE_JS} xbstream -x -C ${out}`,
    'pipe, two writers': (out: string) => `cat ${stream} | $SLUICE xbstream -x --parallel=2 -C ${out}`,
  };
  for (const [name, command] of Object.entries(ways)) {
    const out = join(dir, name.replace(/\W+/g, '-'));
    ok(await sh(command(out)), name);
    assert.deepEqual(await describeTree(out), expected, name);
  }
});
