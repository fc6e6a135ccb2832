/** Byte layouts of the repository: round trips, and hostile input refused with the object named. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { FormatError, IntegrityError } from '../../src/errors.js';
import { decodeIndex, encodeIndex, type IndexedPack } from '../../src/repo/content/index-format.js';
import { decodePackHeader, decodePackTrailer, encodePackHeader, encodePackTrailer, PACK_ENTRY_BYTES } from '../../src/repo/content/pack-format.js';
import { associatedData, open, seal } from '../../src/repo/crypto/envelope.js';
import { ObjectKind } from '../../src/repo/format.js';
import { decodeKeyFile } from '../../src/repo/keys.js';
import { decodeTree, encodeTree, type TreeNode } from '../../src/repo/snapshot/tree.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/repo/snapshot/snapshots.js';

const id = (n: number) => new Uint8Array(32).fill(n);

test('pack header and trailer round trip, and every length is checked', () => {
  const blobs = [
    { type: 'data' as const, id: id(1), length: 100, rawLength: 300 },
    { type: 'tree' as const, id: id(2), length: 60, rawLength: 20 },
  ];
  const header = encodePackHeader(blobs);
  const decoded = decodePackHeader(header, 160, 'data/aa/aa');
  assert.deepEqual(decoded.map((b) => [b.type, b.offset, b.length, b.rawLength]), [['data', 0, 100, 300], ['tree', 100, 60, 20]]);
  assert.throws(() => decodePackHeader(header, 159, 'data/aa/aa'), (e: unknown) => e instanceof FormatError && /data\/aa\/aa/.test(e.message));
  assert.throws(() => decodePackHeader(header.subarray(0, header.length - 1), 160, 'p'), /do not hold/);
  const huge = Buffer.from(header);
  huge.writeUInt32LE(0xffffffff, 0);
  assert.throws(() => decodePackHeader(huge, 160, 'p'), /more than/);
  const badType = Buffer.from(header);
  badType[4] = 9;
  assert.throws(() => decodePackHeader(badType, 160, 'p'), /unknown type/);
  const badLength = Buffer.from(header);
  badLength.writeUInt32LE(2, 4 + 1 + 32);
  assert.throws(() => decodePackHeader(badLength, 160, 'p'), /length 2/);
  assert.equal(PACK_ENTRY_BYTES, 41);

  const trailer = encodePackTrailer(200);
  assert.deepEqual(decodePackTrailer(trailer, 1000, 'p'), { offset: 792, length: 200 });
  assert.throws(() => decodePackTrailer(trailer, 100, 'p'), /exceeds the pack/);
  assert.throws(() => decodePackTrailer(Buffer.from('xxxxxxxx'), 1000, 'p'), /magic/);
  assert.throws(() => decodePackTrailer(trailer, 10, 'p'), /too short/);
});

test('index objects round trip; truncation and lying counts are refused', () => {
  const packs: IndexedPack[] = [
    { id: id(9), size: 5000, blobs: [{ type: 'data', id: id(1), offset: 0, length: 100, rawLength: 80 }, { type: 'tree', id: id(2), offset: 100, length: 200, rawLength: 500 }] },
    { id: id(8), size: 1000, blobs: [] },
  ];
  const bytes = encodeIndex(packs);
  const out: IndexedPack[] = [];
  decodeIndex(bytes, 'index/x', (p) => out.push(p));
  assert.deepEqual(out.map((p) => [p.size, p.blobs.length]), [[5000, 2], [1000, 0]]);
  assert.deepEqual(out[0]?.blobs[1]?.id, id(2));
  for (let cutAt = 1; cutAt < bytes.length; cutAt += 7) {
    assert.throws(() => decodeIndex(bytes.subarray(0, cutAt), 'index/x', () => undefined), (e: unknown) => e instanceof FormatError && e.where.object === 'index/x');
  }
  const lying = Buffer.from(bytes);
  lying.writeUInt32LE(1_000_000, 8 + 32 + 4);
  assert.throws(() => decodeIndex(lying, 'index/x', () => undefined), /more than the object holds/);
  const past = Buffer.from(bytes);
  past.writeUInt32LE(4990, 8 + 40 + 1 + 32);
  assert.throws(() => decodeIndex(past, 'index/x', () => undefined), /offset 4990/);
  assert.throws(() => decodeIndex(Buffer.concat([bytes, Buffer.from([0])]), 'index/x', () => undefined), /follow/);
});

test('envelopes bind kind, blob id and repository: moved or altered envelopes fail', () => {
  const key = randomBytes(32);
  const repo = randomBytes(32);
  const sealed = seal(key, associatedData(repo, ObjectKind.data, id(1)), Buffer.from('secret data'));
  assert.equal(open(key, associatedData(repo, ObjectKind.data, id(1)), sealed, {}, 'blob').toString(), 'secret data');
  const fails = (aad: Buffer, env = sealed, k = key) => assert.throws(() => open(k, aad, env, { object: 'x' }, 'blob'), IntegrityError);
  fails(associatedData(repo, ObjectKind.tree, id(1)));
  fails(associatedData(repo, ObjectKind.data, id(2)));
  fails(associatedData(randomBytes(32), ObjectKind.data, id(1)));
  fails(associatedData(repo, ObjectKind.data, id(1)), sealed, randomBytes(32));
  for (const at of [0, 13, 30, sealed.length - 1]) {
    const flipped = Buffer.from(sealed);
    flipped[at] = (flipped[at] as number) ^ 1;
    fails(associatedData(repo, ObjectKind.data, id(1)), flipped);
  }
  fails(associatedData(repo, ObjectKind.data, id(1)), sealed.subarray(0, 20));
  assert.notDeepEqual(seal(key, associatedData(repo, ObjectKind.data, id(1)), Buffer.from('secret data')), sealed, 'random salt and nonce');
});

test('trees are deterministic and refuse unsafe or malformed nodes', () => {
  const nodes: TreeNode[] = [
    { name: 'b', type: 'file', mode: 0o644, mtime: 1.5, size: 3, sha256: 'a'.repeat(64), content: ['b'.repeat(64)] },
    { name: 'a', type: 'dir', mode: 0o755, mtime: 2, subtree: 'c'.repeat(64) },
    { name: 'l', type: 'symlink', mode: 0o777, mtime: 3, target: '../x' },
  ];
  const bytes = encodeTree(nodes);
  assert.deepEqual(encodeTree([...nodes].reverse()), bytes, 'order of input does not matter');
  assert.deepEqual(decodeTree(bytes, 't').nodes.map((n) => n.name), ['a', 'b', 'l']);
  const hostile = (doc: unknown, why: RegExp) =>
    assert.throws(() => decodeTree(Buffer.from(JSON.stringify(doc)), 'tree xyz'), (e: unknown) => e instanceof FormatError && why.test(e.message) && /tree xyz/.test(e.message));
  const base = { type: 'symlink', mode: 0o777, mtime: 0, target: 'x' };
  for (const name of ['..', '.', 'a/b', '', 'a\0b', 'a\\b']) hostile({ nodes: [{ ...base, name }] }, /invalid name/);
  hostile({ nodes: [{ ...base, name: 'b' }, { ...base, name: 'a' }] }, /out of order/);
  hostile({ nodes: [{ ...base, name: 'a' }, { ...base, name: 'a' }] }, /out of order or repeated/);
  hostile({ nodes: [{ name: 'f', type: 'file', mode: 0o644, mtime: 0, size: -1, sha256: 'a'.repeat(64) }] }, /size/);
  hostile({ nodes: [{ name: 'f', type: 'file', mode: 0o644, mtime: 0, size: 1, sha256: 'nothex' }] }, /sha256/);
  hostile({ nodes: [{ name: 'd', type: 'dir', mode: 0o644, mtime: 0, subtree: '../etc' }] }, /subtree/);
  hostile({ nodes: [{ name: 'x', type: 'fifo', mode: 0, mtime: 0 }] }, /unknown type/);
  hostile({ nodes: 'x' }, /no node list/);
  assert.throws(() => decodeTree(Buffer.from('{"nodes":[{"name"'), 't'), /not JSON/);
});

test('snapshot objects round trip and refuse bad fields', () => {
  const s = {
    time: '2024-01-02T03:04:05.000Z', host: 'h', user: 'u', tags: ['a'], paths: ['/etc'], streams: ['db.sql'], tree: 'd'.repeat(64), program: 'sluice',
    summary: { files: 1, dirs: 2, symlinks: 0, bytes: 10, newBytes: 5, storedBytes: 4, durationMs: 7 },
  };
  assert.deepEqual(decodeSnapshot(encodeSnapshot(s), 'snapshots/x'), s);
  assert.throws(() => decodeSnapshot(Buffer.from(JSON.stringify({ ...s, version: 1, tree: 'zz' })), 'snapshots/x'), /tree is not an id/);
  assert.throws(() => decodeSnapshot(Buffer.from(JSON.stringify({ ...s, version: 2 })), 'snapshots/x'), /version/);
  assert.throws(() => decodeSnapshot(Buffer.from(JSON.stringify({ ...s, version: 1, time: 'never' })), 'snapshots/x'), /time/);
});

test('key files are parsed as hostile input', () => {
  const good = {
    format: 'sluice-key', version: 1, created: 'now', host: 'h', user: 'u',
    kdf: { name: 'scrypt', N: 1024, r: 8, p: 1, salt: randomBytes(32).toString('base64') },
    nonce: randomBytes(12).toString('base64'), data: randomBytes(80).toString('base64'),
  };
  assert.equal(decodeKeyFile(Buffer.from(JSON.stringify(good)), 'k').kdf.N, 1024);
  const bad = (patch: Record<string, unknown>, why: RegExp) =>
    assert.throws(() => decodeKeyFile(Buffer.from(JSON.stringify({ ...good, ...patch })), 'kid'), (e: unknown) => e instanceof FormatError && why.test(e.message) && /keys\/kid/.test(e.message));
  bad({ kdf: { ...good.kdf, N: 2 ** 30 } }, /power of two/);
  bad({ kdf: { ...good.kdf, N: 1000 } }, /power of two/);
  bad({ kdf: { ...good.kdf, r: 1000 } }, /r must/);
  bad({ kdf: { ...good.kdf, N: 2 ** 20, r: 32 } }, /1 GiB/);
  bad({ data: randomBytes(10).toString('base64') }, /data has 10 bytes/);
  bad({ nonce: '!!' }, /base64/);
  bad({ format: 'other' }, /format/);
  assert.throws(() => decodeKeyFile(Buffer.alloc(100_000, 32), 'kid'), /larger than/);
});
