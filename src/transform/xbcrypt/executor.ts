/** The xbcrypt job of a codec worker: check and decrypt a batch of xbcrypt chunks (AES-CTR, v1..v3). */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { crc32 } from '../../bytes/crc32.js';
import { fail } from '../pool/job-failure.js';
import type { CodecResult, XbcryptChunksJob } from '../pool/jobs.js';
import { concatOwned } from '../pool/owned-bytes.js';

const AES_BY_KEY_BYTES: Record<number, string> = { 16: 'aes-128-ctr', 24: 'aes-192-ctr', 32: 'aes-256-ctr' };
const SHA256_BYTES = 32;

export function xbcryptOpen(job: XbcryptChunksJob): CodecResult {
  const algorithm = AES_BY_KEY_BYTES[job.key.length];
  if (algorithm === undefined) fail('E_XBCRYPT_KEY', `an xbcrypt key is 16, 24 or 32 bytes, not ${job.key.length}`);
  const outputs: Uint8Array[] = [];
  let total = 0;
  let at = 0;
  const zeroIv = new Uint8Array(16);
  for (let i = 0; i < job.sizes.length; i++) {
    const size = job.sizes[i]!;
    const payload = job.input.subarray(at, at + size);
    at += size;
    const crc = crc32(payload) >>> 0;
    if (crc !== job.crc32[i]) {
      fail('E_XBCRYPT_CRC', `chunk CRC32 is 0x${crc.toString(16)}, the chunk says 0x${(job.crc32[i] ?? 0).toString(16)}`, i, true);
    }
    // v3 uses the stored IV as the whole initial counter block; v1/v2 decrypt from a zero counter
    const iv = job.version === 3 ? (job.ivs[i] ?? zeroIv) : zeroIv;
    const decipher = createDecipheriv(algorithm, job.key, iv);
    const plain = Buffer.concat([decipher.update(payload), decipher.final()]);
    if (job.version === 3) {
      if (plain.length < SHA256_BYTES) fail('E_XBCRYPT_SHORT', 'chunk is shorter than its SHA-256', i, true);
      const body = plain.subarray(0, plain.length - SHA256_BYTES);
      const digest = createHash('sha256').update(body).digest();
      if (!timingSafeEqual(digest, plain.subarray(plain.length - SHA256_BYTES))) {
        fail('E_XBCRYPT_HASH', 'chunk plaintext hash does not match: wrong encryption key, or corrupt data', i, true);
      }
      outputs.push(body);
      total += body.length;
    } else {
      outputs.push(plain);
      total += plain.length;
    }
  }
  return { output: concatOwned(outputs, total) };
}
