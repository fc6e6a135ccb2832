/**
 * Percona xbcrypt (XBCRYP01-03): vectors built here from the format description with node's crypto,
 * independently of the decoder, decrypted by sluice; wrong keys and damage are errors.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { IntegrityError, UsageError } from '../../src/errors.js';
import { createCompressor } from '../../src/transform/compress.js';
import { createDecoder } from '../../src/transform/decode.js';
import { chunks, collect, compressibleBytes, sluiceError } from './helpers.js';
import { xbcryptFile } from './xbcrypt-builder.js';

const warnings: string[] = [];
function decoderFor(key: Buffer, decompress = false) {
  return createDecoder({ decompress, decrypt: true, xbcryptKey: key, decryptThreads: 2, onWarning: (m) => warnings.push(m) });
}
const opened: Awaited<ReturnType<typeof decoderFor>>[] = [];
after(async () => {
  for (const d of opened) await Promise.all(d.pools.map((p) => p.close()));
});
async function open(key: Buffer, bytes: Buffer, name = 'db/t.ibd.xbcrypt', decompress = false): Promise<Buffer> {
  const d = await decoderFor(key, decompress);
  opened.push(d);
  return collect(d.decode(chunks(bytes, 9999), name, d.plan(name)));
}

const data = compressibleBytes(200_000, 3);

describe('XBCRYP03 with each AES key size', () => {
  for (const bytes of [16, 24, 32]) {
    test(`AES-${bytes * 8}`, async () => {
      const key = randomBytes(bytes);
      assert.ok((await open(key, xbcryptFile(3, key, data))).equals(data));
    });
  }
});

test('XBCRYP01 and XBCRYP02 (legacy, zero counter) decrypt too', async () => {
  const key = Buffer.from('0123456789abcdef0123456789abcdef', 'latin1');
  assert.ok((await open(key, xbcryptFile(1, key, data))).equals(data));
  assert.ok((await open(key, xbcryptFile(2, key, data))).equals(data));
});

test('a decoder warns that xbcrypt is not authenticated', async () => {
  warnings.length = 0;
  const key = randomBytes(32);
  await open(key, xbcryptFile(3, key, data));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] as string, /not authenticated/);
});

test('.zst.xbcrypt: decrypted, then decompressed', async () => {
  const compressor = createCompressor({ algorithm: 'zstd', blockBytes: 64 << 10 });
  const zst = await collect(compressor.compress(chunks(data)));
  await compressor.pool.close();
  const key = randomBytes(24);
  assert.ok((await open(key, xbcryptFile(3, key, zst), 'db/t.ibd.zst.xbcrypt', true)).equals(data));
  // without --decompress only the encryption layer comes off
  assert.ok((await open(key, xbcryptFile(3, key, zst), 'db/t.ibd.zst.xbcrypt', false)).equals(zst));
});

describe('wrong keys and damage', () => {
  const key = randomBytes(32);
  const file = xbcryptFile(3, key, data);

  test('a wrong key of the right length fails the plaintext hash (exit 4)', async () => {
    const err = await sluiceError(() => open(randomBytes(32), file));
    assert.ok(err instanceof IntegrityError);
    assert.equal(err.code, 'E_XBCRYPT_HASH');
    assert.equal(err.where.path, 'db/t.ibd.xbcrypt');
    assert.equal(err.where.chunk, 1);
  });

  test('a key of the wrong length is a usage error, with a hint when it ends in a newline', async () => {
    const err = await sluiceError(() => open(Buffer.concat([key, Buffer.from('\n')]), file));
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /newline/);
  });

  test('a flipped bit in chunk 2 fails its CRC32', async () => {
    const bad = Buffer.from(file);
    const second = bad.indexOf('XBCRYP03', 8);
    bad[second + 60 + 100] = (bad[second + 60 + 100] as number) ^ 0x04;
    const err = await sluiceError(() => open(key, bad));
    assert.equal(err.code, 'E_XBCRYPT_CRC');
    assert.equal(err.where.chunk, 2);
    assert.equal(err.where.offset, second);
  });

  test('a flipped bit with a recomputed CRC32 still fails the plaintext hash', async () => {
    const bad = Buffer.from(file);
    const payloadStart = 60;
    const payloadLength = Number(bad.readBigUInt64LE(24));
    bad[payloadStart + 5] = (bad[payloadStart + 5] as number) ^ 0x80;
    bad.writeUInt32LE(crc32(bad.subarray(payloadStart, payloadStart + payloadLength)) >>> 0, 32);
    const err = await sluiceError(() => open(key, bad));
    assert.equal(err.code, 'E_XBCRYPT_HASH');
  });

  test('a truncated file', async () => {
    const err = await sluiceError(() => open(key, file.subarray(0, file.length - 20)));
    assert.equal(err.code, 'E_TRUNCATED');
    assert.equal(err.where.path, 'db/t.ibd.xbcrypt');
  });

  test('not an xbcrypt file', async () => {
    const err = await sluiceError(() => open(key, Buffer.from('XBSTCK01 this is an xbstream, not xbcrypt......................')));
    assert.equal(err.code, 'E_XBCRYPT_MAGIC');
  });

  test('a chunk declaring an enormous size is refused before any allocation', async () => {
    const bad = Buffer.from(file.subarray(0, 60));
    bad.writeBigUInt64LE(1n << 40n, 16);
    bad.writeBigUInt64LE(1n << 40n, 24);
    const err = await sluiceError(() => open(key, bad));
    assert.equal(err.code, 'E_XBCRYPT_CHUNK');
  });
});
