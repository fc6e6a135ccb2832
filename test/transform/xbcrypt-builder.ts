/**
 * Builds Percona xbcrypt files from the format description (section 3 of formats/xbstream.md) with node's
 * crypto, independently of src/transform/xbcrypt, so the decoder is tested against bytes it did not make.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type Version = 1 | 2 | 3;
const ALGORITHM: Record<number, string> = { 16: 'aes-128-ctr', 24: 'aes-192-ctr', 32: 'aes-256-ctr' };

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** One xbcrypt chunk, laid out as section 3.1 of the format notes describes. */
export function xbcryptChunk(version: Version, key: Buffer, plain: Buffer, iv = randomBytes(16)): Buffer {
  let payload: Buffer;
  if (version === 3) {
    const withHash = Buffer.concat([plain, createHash('sha256').update(plain).digest()]);
    const cipher = createCipheriv(ALGORITHM[key.length] as string, key, iv);
    payload = Buffer.concat([cipher.update(withHash), cipher.final()]);
  } else {
    // v1/v2: the counter starts at zero for every chunk (the stored v2 IV is not used)
    const cipher = createCipheriv(ALGORITHM[key.length] as string, key, Buffer.alloc(16));
    payload = Buffer.concat([cipher.update(plain), cipher.final()]);
  }
  const head = Buffer.concat([Buffer.from(`XBCRYP0${version}`, 'latin1'), Buffer.alloc(8), u64(payload.length), u64(payload.length)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(payload) >>> 0);
  const ivPart = version === 1 ? Buffer.alloc(0) : Buffer.concat([u64(16), iv]);
  return Buffer.concat([head, crc, ivPart, payload]);
}

export function xbcryptFile(version: Version, key: Buffer, data: Buffer, chunkBytes = 64 << 10): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunkBytes) parts.push(xbcryptChunk(version, key, data.subarray(at, at + chunkBytes)));
  return Buffer.concat(parts);
}

