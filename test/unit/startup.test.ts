/**
 * Start-up stays small: a command loads only the libraries its options need (see the lazy imports in
 * transform/encode-chain.ts, transform/decode.ts and cli/commands/backup.ts). Checked by recording the
 * modules the CLI process loads, never by timing it.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { run, SLUICE_JS } from '../helpers/cli.js';
import { TEST_KDF } from '../repo/helpers.js';

const RECORDER = fileURLToPath(new URL('../helpers/record-loads.js', import.meta.url));
/** A well-formed X25519 recipient (its identity is not needed: nothing is decrypted). */
const RECIPIENT = 'age1rq0ghvap5a2l7snjxv6znadpp6z6vfprtd9hrs7k5uek74r3p3ps3vngfg';

let dir: string;
let tree: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-startup-'));
  tree = join(dir, 'tree');
  await mkdir(tree);
  await writeFile(join(tree, 'a.txt'), 'hello\n');
});
after(() => rm(dir, { recursive: true, force: true }));

let runs = 0;
/** Runs the CLI; its exit status and the modules it loaded. */
async function loadsOf(args: readonly string[], env: Record<string, string> = {}): Promise<{ status: number | null; modules: string[] }> {
  const record = join(dir, `loads-${runs++}.txt`);
  const result = await run('node', ['--import', RECORDER, SLUICE_JS, ...args], { env: { ...env, SLUICE_RECORD_LOADS: record } });
  return { status: result.status, modules: (await readFile(record, 'utf8')).split('\n') };
}

const loaded = (modules: readonly string[], pkg: string): boolean => modules.some((m) => m.includes(`/node_modules/${pkg}/`));

test('backup without --encrypt loads neither age-encryption nor @noble, and xbstream output does not load tar', async () => {
  const { status, modules } = await loadsOf(['backup', '--stream', tree]);
  assert.equal(status, 0);
  assert.ok(loaded(modules, 'commander'), 'the recorder saw no package at all: it is not recording');
  for (const pkg of ['age-encryption', '@noble/curves', '@noble/hashes', 'tar']) assert.ok(!loaded(modules, pkg), `backup loaded ${pkg}`);
});

test('backup --encrypt loads age-encryption (the recorder sees a lazily imported package)', async () => {
  const { status, modules } = await loadsOf(['backup', '--stream', tree, '--encrypt', '--recipient', RECIPIENT]);
  assert.equal(status, 0);
  assert.ok(loaded(modules, 'age-encryption'));
});

test('backup --stream=tar loads tar', async () => {
  const { status, modules } = await loadsOf(['backup', '--stream=tar', tree]);
  assert.equal(status, 0);
  assert.ok(loaded(modules, 'tar'));
});

test('a malformed --recipient still fails before any output, and verify without --decrypt loads no age code', async () => {
  const bad = await run('node', [SLUICE_JS, 'backup', '--stream', tree, '--encrypt', '--recipient', 'age1notakey']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout.length, 0);
  assert.match(bad.stderr, /recipient/);
  const stream = join(dir, 'small.xbstream');
  const made = await run('node', [SLUICE_JS, 'backup', '--stream', tree]);
  await writeFile(stream, made.stdout);
  const { status, modules } = await loadsOf(['verify', stream]);
  assert.equal(status, 0);
  assert.ok(!loaded(modules, 'age-encryption'), 'verify loaded age-encryption');
});

test('snapshots loads its own command module, not the archiver or the other repository commands', async () => {
  const env = { SLUICE_REPO: join(dir, 'repo'), SLUICE_PASSWORD: 'pw', SLUICE_KDF: TEST_KDF, SLUICE_CACHE_DIR: join(dir, 'cache') };
  const init = await run('node', [SLUICE_JS, 'init'], { env });
  assert.equal(init.status, 0, init.stderr);
  const { status, modules } = await loadsOf(['snapshots'], env);
  assert.equal(status, 0);
  assert.ok(modules.some((m) => m.endsWith('/cli/commands/repo-snapshots.js')), 'the recorder missed the command module');
  for (const file of ['/repo/snapshot/archiver.js', '/cli/commands/repo-snapshot.js', '/cli/commands/repo-check.js', '/cli/commands/repo-restore.js']) {
    assert.ok(!modules.some((m) => m.endsWith(file)), `snapshots loaded ${file}`);
  }
});

test('--version loads no command and not commander', async () => {
  const { status, modules } = await loadsOf(['--version']);
  assert.equal(status, 0);
  assert.ok(modules.some((m) => m.endsWith('/cli/main.js')), 'the recorder missed the entry point');
  assert.ok(!loaded(modules, 'commander'), '--version loaded commander');
  assert.ok(!modules.some((m) => m.includes('/cli/commands/')), '--version loaded a command module');
});

test('a one-file backup starts no thread and loads neither the CRC addon nor the decoders; a larger one does start threads', async () => {
  const { status, modules } = await loadsOf(['backup', '--stream', tree]);
  assert.equal(status, 0);
  assert.ok(!modules.some((m) => m.startsWith('thread:')), 'a one-file backup started a thread');
  assert.ok(!loaded(modules, '@node-rs/crc32'), 'a one-file backup loaded the CRC-32 addon');
  for (const file of ['/transform/zstd/decoder.js', '/transform/lz4/decoder.js', '/transform/xbcrypt/decoder.js']) {
    assert.ok(!modules.some((m) => m.endsWith(file)), `backup loaded ${file}`);
  }
  const big = join(dir, 'big');
  await mkdir(big);
  await writeFile(join(big, 'a.bin'), Buffer.alloc(12 << 20, 7));
  const larger = await loadsOf(['backup', '--stream', big]);
  assert.equal(larger.status, 0);
  assert.ok(larger.modules.some((m) => m.startsWith('thread:')), 'a 12 MiB backup started no reader thread: the check above cannot fail');
  assert.ok(loaded(larger.modules, '@node-rs/crc32'), 'a 12 MiB backup did not load the CRC-32 addon');
});

test('commands on a local repository do not load the AWS SDK', async () => {
  const env = { SLUICE_REPO: join(dir, 'repo-local'), SLUICE_PASSWORD: 'pw', SLUICE_KDF: TEST_KDF, SLUICE_CACHE_DIR: join(dir, 'cache') };
  const init = await loadsOf(['init'], env);
  assert.equal(init.status, 0);
  const snapshots = await loadsOf(['snapshots'], env);
  assert.equal(snapshots.status, 0);
  for (const { modules } of [init, snapshots]) assert.ok(!loaded(modules, '@aws-sdk/client-s3'), 'the AWS SDK was loaded for a local repository');
  assert.ok(!loaded(snapshots.modules, 'zstd-napi'), 'listing snapshots loaded zstd (no blob is decompressed)');
  const s3 = await loadsOf(['snapshots', '-r', 's3:http://127.0.0.1:9/no-such-bucket', '--s3-retries', '1'], { ...env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' });
  assert.notEqual(s3.status, 0, 'nothing listens on port 9');
  assert.ok(loaded(s3.modules, '@aws-sdk/client-s3'), 'an s3: repository did not load the SDK: the check above cannot fail');
});
