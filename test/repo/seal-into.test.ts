/**
 * Sealing a chunk where it lies (the envelope written over the plaintext in its slot) gives the bytes
 * `sealParts` gives for the same salt and nonce, and the result opens, whatever the sizes around the
 * cipher's 256 KiB steps.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { associatedData, open, sealInto, sealParts } from '../../src/repo/crypto/envelope.js';
import { ObjectKind } from '../../src/repo/format.js';
import { BlobCodec, SEAL_ROOM_BYTES } from '../../src/repo/workers/blob-codec.js';

const key = randomBytes(32);
const repoId = randomBytes(32);
const id = randomBytes(32);
const aad = associatedData(repoId, ObjectKind.data, id);
const fixed = (head: Uint8Array) => (n: number) => Uint8Array.from(head.subarray(0, n));

const STEP = 256 * 1024;
const SIZES = [0, 1, 24, 25, 26, 4095, STEP - 26, STEP - 25, STEP - 1, STEP, STEP + 1, 2 * STEP + 7, 5 * STEP - 3];

test('sealInto over its own plaintext writes what sealParts writes', () => {
  for (const size of SIZES) {
    const plain = randomBytes(size);
    const head = randomBytes(24);
    const expected = Buffer.concat(sealParts(key, aad, [Uint8Array.of(0), plain], fixed(head)));
    const area = new Uint8Array(new SharedArrayBuffer(size + SEAL_ROOM_BYTES + 100));
    area.set(plain, 0);
    const released: number[] = [];
    const n = sealInto(key, aad, [Uint8Array.of(0), area.subarray(0, size)], area, (p) => released.push(p.length), fixed(head));
    assert.equal(n, expected.length, `size ${size}`);
    assert.deepEqual(Buffer.from(area.subarray(0, n)), expected, `size ${size}: the envelope differs`);
    assert.ok(released.every((len) => len <= STEP), `size ${size}: pieces of at most one step`);
    const opened = open(key, aad, area.subarray(0, n), {}, 'blob');
    assert.deepEqual(Buffer.from(opened.subarray(1)), plain, `size ${size}: opens to the plaintext`);
  }
});

test('sealInto from another buffer, and refusals', () => {
  const plain = randomBytes(3 * STEP + 5);
  const head = randomBytes(24);
  const out = new Uint8Array(plain.length + 40);
  const n = sealInto(key, aad, [plain], out, undefined, fixed(head));
  assert.deepEqual(Buffer.from(out.subarray(0, n)), Buffer.concat(sealParts(key, aad, [plain], fixed(head))));
  assert.throws(() => sealInto(key, aad, [plain], new Uint8Array(plain.length + 39)), /does not fit/);
  const area = new Uint8Array(1000);
  assert.throws(() => sealInto(key, aad, [area.subarray(900, 1000)], area.subarray(0, 950)), /overlaps/);
});

test('BlobCodec.sealTo in place: compressible and incompressible chunks open to their bytes', () => {
  const codec = new BlobCodec(key, randomBytes(32), repoId);
  const text = Buffer.from('INSERT INTO t VALUES (1, "row");\n'.repeat(40_000));
  for (const [name, data, level] of [
    ['text', text, 1],
    ['random', randomBytes(STEP * 3 + 11), 1],
    ['text, level 0', text, 0],
  ] as const) {
    const blobId = codec.idOf(data);
    const area = new Uint8Array(new SharedArrayBuffer(data.length + SEAL_ROOM_BYTES));
    area.set(data, 0);
    const sealed = codec.sealTo(ObjectKind.data, blobId, area.subarray(0, data.length), area, level);
    assert.equal(sealed.compressed, name === 'text', name);
    assert.ok(sealed.length <= data.length + SEAL_ROOM_BYTES, name);
    const back = codec.open(ObjectKind.data, blobId, area.slice(0, sealed.length), data.length, {});
    assert.deepEqual(Buffer.from(back), data, name);
  }
});
