/**
 * A repository written once by sluice 0.1.0 (format v1) and committed: test/fixtures/repo-v1/ (see its
 * README). Today's code must open, list, restore and check it, and an independent reader written from
 * docs/repository-format.md (node's crypto and BLAKE3 only, none of src/repo) must open its key file,
 * config and snapshot. So a format change made the same way in the writer and the reader fails here.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac, hkdfSync, scryptSync } from 'node:crypto';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { gearTable } from '../../src/repo/content/chunker.js';
import { associatedData } from '../../src/repo/crypto/envelope.js';
import { masterKeyFrom } from '../../src/repo/crypto/master-key.js';
import { ObjectKind } from '../../src/repo/format.js';
import { ok, runSluice } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree } from '../helpers/tree.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/repo-v1/', import.meta.url));
const REPO = join(FIXTURE, 'repo');
const PASSWORD = 'correct horse battery staple v1';

/** What the fixture holds (recorded when it was made; never regenerate the fixture to make these pass). */
const KNOWN = {
  repoId: '670cb3cd6a4ddeb319ade7e554041927f02d6efaa453a76a93237f5d401341d4',
  snapshotId: '9d61bb0964c78898f32b4cad2c78ebd818c6b5784ff476f4804a339c11a0bcab',
  tree: '135b6f371eabb673a601ba5441e8a4abe1c69a80bf07e2812b7a882f3cda56be',
  time: '2024-05-01T02:00:00.000Z',
  host: 'fixture-host',
  sourcePath: '/tmp/sluice-v1/source',
};

// ------------------------------------------------------------- an independent reader, from the spec

/** §4.1: kek = scrypt(NFC(password), salt, N, r, p, 32); data = AES-256-GCM(kek, nonce, AD "sluice key file v1") of the master key. */
async function specMasterKey(): Promise<Buffer> {
  const [name] = await readdir(join(REPO, 'keys'));
  const file = JSON.parse(await readFile(join(REPO, 'keys', name as string), 'utf8')) as {
    format: string;
    version: number;
    kdf: { name: string; N: number; r: number; p: number; salt: string };
    nonce: string;
    data: string;
  };
  assert.equal(file.format, 'sluice-key');
  assert.equal(file.version, 1);
  assert.equal(file.kdf.name, 'scrypt');
  const { N, r, p } = file.kdf;
  const kek = scryptSync(PASSWORD.normalize('NFC'), Buffer.from(file.kdf.salt, 'base64'), 32, { N, r, p, maxmem: 256 * N * r });
  const data = Buffer.from(file.data, 'base64');
  assert.equal(data.length, 80, '64 bytes of ciphertext and a 16-byte tag');
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(file.nonce, 'base64'));
  decipher.setAAD(Buffer.from('sluice key file v1', 'ascii'));
  decipher.setAuthTag(data.subarray(64));
  return Buffer.concat([decipher.update(data.subarray(0, 64)), decipher.final()]);
}

/** §4.2: HKDF-SHA256(ikm = master key, salt = empty, info = label). */
function specKey(master: Uint8Array, label: string, bytes = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), label, bytes));
}

/** §5: 73 bytes: "sluice" 00 01, repository id (zeros for config), kind, blob id or zeros. */
function specAssociatedData(repoId: Buffer | undefined, kind: number): Buffer {
  return Buffer.concat([Buffer.from('736c756963650001', 'hex'), repoId ?? Buffer.alloc(32), Buffer.from([kind]), Buffer.alloc(32)]);
}

/** §5: salt (12) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16), key = HMAC-SHA256(data key, salt). */
function specOpen(dataKey: Buffer, aad: Buffer, envelope: Buffer): Buffer {
  const key = createHmac('sha256', dataKey).update(envelope.subarray(0, 12)).digest();
  const decipher = createDecipheriv('aes-256-gcm', key, envelope.subarray(12, 24));
  decipher.setAAD(aad);
  decipher.setAuthTag(envelope.subarray(envelope.length - 16));
  return Buffer.concat([decipher.update(envelope.subarray(24, envelope.length - 16)), decipher.final()]);
}

describe('the frozen v1 repository, read from the spec', async () => {
  const master = await specMasterKey();
  const dataKey = specKey(master, 'sluice v1 encryption');

  test('the key file opens with the known password and holds a 64-byte master key', () => {
    assert.equal(master.length, 64);
  });

  test('config: kind 7 under the zero repository id, the known id and v1 parameters', async () => {
    const config = JSON.parse(specOpen(dataKey, specAssociatedData(undefined, 7), await readFile(join(REPO, 'config'))).toString('utf8'));
    assert.equal(config.version, 1);
    assert.equal(config.id, KNOWN.repoId);
    assert.deepEqual(config.chunker, { min: 524288, avg: 1048576, max: 8388608 });
  });

  test('snapshot: named by the BLAKE3 of its bytes, kind 5 under the repository id', async () => {
    const bytes = await readFile(join(REPO, 'snapshots', KNOWN.snapshotId));
    assert.equal(new Blake3Hasher().update(bytes).digest('hex'), KNOWN.snapshotId);
    const snapshot = JSON.parse(specOpen(dataKey, specAssociatedData(Buffer.from(KNOWN.repoId, 'hex'), 5), bytes).toString('utf8'));
    assert.equal(snapshot.version, 1);
    assert.equal(snapshot.time, KNOWN.time);
    assert.equal(snapshot.host, KNOWN.host);
    assert.deepEqual(snapshot.tags, ['v1']);
    assert.deepEqual(snapshot.paths, [KNOWN.sourcePath]);
    assert.deepEqual(snapshot.streams, ['db.sql']);
    assert.equal(snapshot.tree, KNOWN.tree);
  });

  test("today's key derivation, associated data and gear table are the spec's", () => {
    const keys = masterKeyFrom(master);
    assert.deepEqual(Buffer.from(keys.dataKey), dataKey);
    assert.deepEqual(Buffer.from(keys.idKey), specKey(master, 'sluice v1 blob id'));
    assert.deepEqual(Buffer.from(keys.chunkerKey), specKey(master, 'sluice v1 chunker'));
    const repoId = Buffer.from(KNOWN.repoId, 'hex');
    assert.deepEqual(ObjectKind, { data: 1, tree: 2, packHeader: 3, index: 4, snapshot: 5, lock: 6, config: 7 });
    for (const kind of Object.values(ObjectKind)) assert.deepEqual(associatedData(repoId, kind), specAssociatedData(repoId, kind));
    assert.deepEqual(associatedData(undefined, ObjectKind.config), specAssociatedData(undefined, 7));
    const blobId = Buffer.alloc(32, 0xab);
    assert.deepEqual(associatedData(repoId, ObjectKind.data, blobId).subarray(41), blobId, 'a blob id fills the last 32 bytes');
    const gear = specKey(specKey(master, 'sluice v1 chunker'), 'sluice v1 gear table', 1024);
    const table = gearTable(keys.chunkerKey);
    assert.equal(table.length, 256);
    for (let i = 0; i < 256; i++) assert.equal(table[i], gear.readInt32LE(4 * i), `gear[${i}]`);
  });
});

// ------------------------------------------------------------------------------ today's sluice

describe('the frozen v1 repository, through the CLI', () => {
  async function copyOfRepo(t: { after(fn: () => unknown): void }): Promise<{ repo: string; dir: string }> {
    const dir = await tempDir(t);
    await cp(REPO, join(dir, 'repo'), { recursive: true }); // opening takes locks: never in the fixture itself
    return { repo: join(dir, 'repo'), dir };
  }
  const auth = (repo: string): string[] => ['-r', repo, '-p', join(FIXTURE, 'password'), '--no-cache'];

  test('lists the snapshot and its files', async (t) => {
    const { repo } = await copyOfRepo(t);
    const list = JSON.parse(ok(await runSluice(['snapshots', ...auth(repo), '--json'])).stdout.toString()) as { id: string; tree: string }[];
    assert.deepEqual(
      list.map((s) => [s.id, s.tree]),
      [[KNOWN.snapshotId, KNOWN.tree]],
    );
    const lines = ok(await runSluice(['ls', ...auth(repo), '--json', 'latest'])).stdout.toString().trim().split('\n');
    const paths = lines.slice(1).map((l) => {
      const n = JSON.parse(l) as { path: string; type: string };
      return `${n.type} ${n.path}`;
    });
    for (const expected of [
      'file /db.sql',
      `dir ${KNOWN.sourcePath}`,
      `file ${KNOWN.sourcePath}/README.txt`,
      `file ${KNOWN.sourcePath}/data/numbers.csv`,
      `file ${KNOWN.sourcePath}/data/empty`,
      `file ${KNOWN.sourcePath}/nested/deeper/note.md`,
      `symlink ${KNOWN.sourcePath}/nested/readme-link`,
    ]) {
      assert.ok(paths.includes(expected), `${expected} is listed (got ${paths.join(', ')})`);
    }
  });

  test('restores the tree and the stream byte for byte, and check --read-data passes', async (t) => {
    const { repo, dir } = await copyOfRepo(t);
    const target = join(dir, 'restored');
    ok(await runSluice(['restore', ...auth(repo), '--target', target, 'latest']));
    assert.deepEqual(await describeTree(join(target, KNOWN.sourcePath)), await describeTree(join(FIXTURE, 'source')));
    const stream = ok(await runSluice(['cat', ...auth(repo), 'latest', 'db.sql'])).stdout;
    assert.ok(stream.equals(await readFile(join(FIXTURE, 'db.sql'))), 'the stream comes back as it was stored');
    ok(await runSluice(['check', ...auth(repo), '--read-data']));
  });

  test('a wrong password is refused', async (t) => {
    const { repo, dir } = await copyOfRepo(t);
    const wrong = join(dir, 'wrong');
    await writeFile(wrong, 'not the password\n');
    const result = await runSluice(['snapshots', '-r', repo, '-p', wrong, '--no-cache']);
    assert.equal(result.status, 12, result.stderr);
  });
});
