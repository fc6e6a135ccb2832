/** Which layers a decoder removes, by name: one encryption layer outside one compression layer, at most. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { toSafePath } from '../../src/entry.js';
import { createCompressor } from '../../src/transform/compress.js';
import { createDecoder, encodingLayers } from '../../src/transform/decode.js';
import { chunks, collect, sluiceError } from './helpers.js';

const both = await createDecoder({ decompress: true, decrypt: true, age: { passphrases: ['x'] }, xbcryptKey: Buffer.alloc(32, 1) });
const decompressOnly = await createDecoder({ decompress: true, decrypt: false });
const decryptOnly = await createDecoder({ decompress: false, decrypt: true, age: { passphrases: ['x'] }, xbcryptKey: Buffer.alloc(24, 3) });
after(() => Promise.all([both, decompressOnly, decryptOnly].flatMap((d) => d.pools.map((p) => p.close()))));

test('layers per name and options', () => {
  const cases: [string, string[], string[], string[]][] = [
    // name, with both, with --decompress only, with --decrypt only
    ['db/t.ibd.zst', ['zstd'], ['zstd'], []],
    ['db/t.ibd.lz4', ['lz4'], ['lz4'], []],
    ['db/t.ibd.qp', ['qpress'], ['qpress'], []],
    ['db/t.ibd.zst.age', ['age', 'zstd'], [], ['age']],
    ['db/t.ibd.qp.xbcrypt', ['xbcrypt', 'qpress'], [], ['xbcrypt']],
    ['db/t.ibd.age', ['age'], [], ['age']],
    ['dump.sql.zst.zst', ['zstd'], ['zstd'], []],
    ['notes.age.age', ['age'], [], ['age']],
    ['odd.age.zst', ['zstd'], ['zstd'], []],
    ['db/t.ibd', [], [], []],
    ['.zst', [], [], []],
    ['dir/.zst', [], [], []],
  ];
  for (const [name, all, decompress, decrypt] of cases) {
    assert.deepEqual(both.plan(name), all, `${name} with both`);
    assert.deepEqual(decompressOnly.plan(name), decompress, `${name} with --decompress`);
    assert.deepEqual(decryptOnly.plan(name), decrypt, `${name} with --decrypt`);
  }
  assert.deepEqual(encodingLayers('dump.sql.zst.zst'), { layers: ['zstd'], plainPath: 'dump.sql.zst' });
  assert.deepEqual(encodingLayers('x.zst.age'), { layers: ['age', 'zstd'], plainPath: 'x' });
});

test('a compressed .zst file decodes back to the .zst file, not further', async () => {
  const compressor = createCompressor({ algorithm: 'zstd' });
  const inner = await collect(compressor.compress(chunks(Buffer.from('the original, a zstd file of its own '.repeat(100)))));
  const outer = await collect(compressor.compress(chunks(inner)));
  await compressor.pool.close();
  const entry = decompressOnly.transform({ kind: 'file', path: toSafePath('dump.sql.zst.zst'), mode: 0o644, mtimeMs: 0, content: chunks(outer) });
  assert.equal(entry.path, 'dump.sql.zst');
  assert.ok((await collect(entry.content)).equals(inner));
});

test('decrypting an encrypted name without its kind of key is a usage error naming the file', async () => {
  const xbOnly = await createDecoder({ decompress: true, decrypt: true, xbcryptKey: Buffer.alloc(16, 2) });
  after(() => Promise.all(xbOnly.pools.map((p) => p.close())));
  const err = await sluiceError(async () => xbOnly.plan('db/t.ibd.zst.age'));
  assert.equal(err.code, 'E_NO_KEY');
  assert.equal(err.exitCode, 2);
  assert.match(err.message, /t\.ibd\.zst\.age/);
});
