/**
 * The package as a user gets it: `npm pack`, installed into a scratch project, imported as 'sluice' from a
 * plain .mjs script that creates a repository, snapshots a directory, lists the snapshots and restores
 * them, through the public API alone; and a .ts file type-checked against the published declarations.
 */
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ok, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree, makeTree, pseudoRandomBytes } from '../helpers/tree.js';

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/**
 * Dependencies whose install script compiles a native addon (minutes with node-gyp on a small machine).
 * The scratch project installs without scripts and takes the addon built for this checkout's own
 * node_modules: the same version (checked below), so the test still exercises the packed package.
 */
const NATIVE_BUILDS = ['zstd-napi', 'lz4'];

const SCRIPT = `
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { backupStream, createDecoder, extractStream, initRepository, listSnapshots, openRepository, restore, snapshot, SluiceError } from 'sluice';
const [repoDir, dataDir, target, streamFile, extracted] = process.argv.slice(2);
const out = createWriteStream(streamFile);
const sent = await backupStream({ directory: dataDir, output: out, encode: { compress: { algorithm: 'zstd' } }, checksum: true });
out.end();
await finished(out);
mkdirSync(extracted);
const decoder = await createDecoder({ decompress: true, decrypt: false });
const unpacked = await extractStream({ input: createReadStream(streamFile), directory: extracted, decoder });
const made = await initRepository({ location: repoDir, password: 'pw', kdf: { N: 1024, r: 8, p: 1 } });
const opened = await openRepository({ location: repoDir, password: async () => 'pw', lock: 'shared', purpose: 'api test' });
let wrong;
try {
  await openRepository({ location: repoDir, password: 'not it' });
} catch (err) {
  wrong = err instanceof SluiceError ? err.exitCode : String(err);
}
try {
  const progress = [];
  const saved = await snapshot(opened.repo, { paths: [dataDir], tags: ['api'], onProgress: (p) => progress.push(p.files), progressIntervalMs: 1 });
  const listed = await listSnapshots(opened.repo, { tags: ['api'] });
  const restored = await restore(opened.repo, saved.id.slice(0, 8) + ':' + dataDir, { target });
  console.log(JSON.stringify({ streamFiles: sent.files, streamSha: sent.sha256, unpacked: unpacked.files, repository: made.id, id: saved.id, summary: saved.snapshot.summary, listed: listed.map((s) => s.id), restored: restored.files, wrongPasswordExit: wrong }));
} finally {
  await opened.close();
}
`;

const TYPED = `
import { type OpenedRepository, openRepository, type SnapshotResult, snapshot } from 'sluice';
export async function typed(): Promise<string> {
  const opened: OpenedRepository = await openRepository({ location: '/nowhere', password: 'pw', lock: 'shared' });
  const made: SnapshotResult = await snapshot(opened.repo, { paths: ['/etc'], onProgress: (p) => void p.bytes });
  return made.snapshot.summary.files.toFixed(0);
}
`;

test('the packed package installs and runs a stream backup and extraction, init, snapshot, listSnapshots and restore from its public API', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t, 'sluice-pack-');
  // --ignore-scripts: `prepare` would rebuild dist/ under the other tests running from it.
  const packed = ok(await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: projectRoot }), 'npm pack');
  const [{ filename }] = JSON.parse(packed.stdout.toString('utf8')) as [{ filename: string }];
  const project = join(dir, 'project');
  await makeTree(project, { 'package.json': JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, type: 'module' }) });
  ok(await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, filename)], { cwd: project, timeoutMs: 150_000 }), 'npm install');
  for (const name of NATIVE_BUILDS) {
    const ours = JSON.parse(await readFile(join(projectRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
    const theirs = JSON.parse(await readFile(join(project, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
    assert.equal(theirs.version, ours.version, `${name}: the scratch project got another version than this checkout`);
    await cp(join(projectRoot, 'node_modules', name, 'build'), join(project, 'node_modules', name, 'build'), { recursive: true });
  }

  const data = join(dir, 'data');
  await makeTree(data, { 'a.txt': 'hello\n', 'sub/big.bin': pseudoRandomBytes(700_000, 7), 'sub/empty': '', 'link': { symlink: 'a.txt' } });
  const target = join(dir, 'restored');
  await writeFile(join(project, 'run.mjs'), SCRIPT);
  const extracted = join(dir, 'extracted');
  const out = ok(await run(process.execPath, ['run.mjs', join(dir, 'repo'), data, target, join(dir, 'tree.xbstream'), extracted], { cwd: project }), 'the API script');
  const result = JSON.parse(out.stdout.toString('utf8')) as { streamFiles: number; streamSha: string; unpacked: number; repository: string; id: string; summary: { files: number; symlinks: number }; listed: string[]; restored: number; wrongPasswordExit: unknown };
  assert.match(result.repository, /^[0-9a-f]{64}$/);
  assert.deepEqual(result.listed, [result.id]);
  assert.equal(result.summary.files, 3);
  assert.equal(result.summary.symlinks, 1);
  assert.equal(result.restored, 3);
  assert.equal(result.wrongPasswordExit, 12);
  assert.deepEqual(await describeTree(target), await describeTree(data));

  // The stream backup through the API: an xbstream of zstd files (no symlinks: xbstream cannot hold them), decoded back.
  assert.equal(result.streamFiles, 3);
  assert.equal(result.unpacked, 3);
  assert.match(result.streamSha, /^[0-9a-f]{64}$/);
  const files = (items: Awaited<ReturnType<typeof describeTree>>) => items.filter((i) => i.kind === 'file');
  assert.deepEqual(files(await describeTree(extracted)), files(await describeTree(data)));

  // The declarations are published and say what the functions take and return.
  await writeFile(join(project, 'typed.ts'), TYPED);
  const tsc = join(projectRoot, 'node_modules', '.bin', 'tsc');
  const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--typeRoots', join(projectRoot, 'node_modules', '@types'), '--types', 'node'];
  ok(await run(tsc, [...flags, 'typed.ts'], { cwd: project }), 'tsc on typed.ts');
  await writeFile(join(project, 'mistyped.ts'), TYPED.replace('summary.files', 'summary.nosuch'));
  const mistyped = await run(tsc, [...flags, 'mistyped.ts'], { cwd: project });
  assert.notEqual(mistyped.status, 0, 'tsc accepted a property the declarations do not have');
  assert.match(mistyped.stdout.toString('utf8'), /nosuch/);
});
