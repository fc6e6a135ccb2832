/**
 * Streams, not buffers: compressing, encrypting, decrypting and decompressing 384 MiB in one pipeline
 * keeps the process's resident memory far below the size of the data (workers included: they share it).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import { AgeDecryptor } from '../../src/transform/age/decrypt.js';
import { createAgeEncryptor } from '../../src/transform/age/encrypt.js';
import { createCompressor } from '../../src/transform/compress.js';
import { createDecoder } from '../../src/transform/decode.js';
import { BlockPool } from '../../src/transform/pool/block-pool.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { compressibleBytes } from './helpers.js';

const TOTAL = 256 << 20;
const PIECE = 1 << 20;
const pool = new BlockPool({ threads: 2 });
const decoder = await createDecoder({ decompress: true, decrypt: false, decompressThreads: 2 });
after(async () => {
  await pool.close();
  await Promise.all(decoder.pools.map((p) => p.close()));
});

/** Sends `total` bytes through compress, encrypt, decrypt and decompress; returns the peak RSS seen. */
async function roundTrip(total: number): Promise<number> {
  const text = compressibleBytes(PIECE, 1);
  const noise = pseudoRandomBytes(PIECE, 2);
  const sent = createHash('sha256');
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let at = 0, i = 0; at < total; at += PIECE, i++) {
      const piece = Buffer.from(i % 3 === 0 ? noise : text); // a fresh buffer each time, like a reader
      piece.writeUInt32LE(i, 0);
      sent.update(piece);
      yield piece;
    }
  }
  const compressor = createCompressor({ algorithm: 'zstd', pool });
  const encryptor = createAgeEncryptor({ passphrase: 'flat', scryptLogN: 10, pool });
  const decryptor = new AgeDecryptor({ passphrases: ['flat'], pool });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const received = createHash('sha256');
  let bytes = 0;
  try {
    const sealed = encryptor.encrypt(compressor.compress(source(), 'big'), 'big.zst');
    const opened = decryptor.decrypt(sealed, 'big.zst.age');
    for await (const piece of decoder.decode(opened, 'big.zst', ['zstd'])) {
      received.update(piece);
      bytes += piece.length;
    }
  } finally {
    clearInterval(sampler);
  }
  assert.equal(bytes, total);
  assert.equal(received.digest('hex'), sent.digest('hex'));
  return Math.max(peak, process.memoryUsage().rss);
}

test('compress, encrypt, decrypt and decompress in flat memory: four times the data, no more memory', async () => {
  const baseline = process.memoryUsage().rss;
  await roundTrip(16 << 20); // starts the workers and fills the buffer free lists
  const small = await roundTrip(TOTAL / 4);
  const large = await roundTrip(TOTAL);
  const MiB = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;
  const detail = `baseline ${MiB(baseline)}, after ${MiB(TOTAL / 4)}: ${MiB(small)}, after ${MiB(TOTAL)}: ${MiB(large)}`;
  assert.ok(large - small < 96 << 20, `the larger stream needed more memory: ${detail}`);
  assert.ok(small - baseline < 400 << 20, `the pipeline's working set is too large: ${detail}`);
});
