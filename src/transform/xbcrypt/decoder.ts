/**
 * Decrypting Percona XtraBackup `.xbcrypt` files (read only), so Percona users can open existing
 * backups. A file is a run of chunks, little-endian:
 *
 *   "XBCRYP01" | "XBCRYP02" | "XBCRYP03"   8 reserved bytes   u64 original size   u64 encrypted size
 *   u32 CRC32 of the encrypted bytes   (v2, v3) u64 IV length + IV   encrypted bytes
 *
 * AES-128/192/256 in CTR mode with the raw key (its length picks the AES size). Version 3 appends the
 * SHA-256 of each chunk's plaintext before encrypting and starts the counter at the chunk's IV;
 * versions 1 and 2 start every chunk at a zero counter (keystream reuse: legacy, read only).
 *
 * This format is NOT authenticated encryption: the CRC32 is unkeyed and the SHA-256 is encrypted
 * with the same keystream, so they catch a wrong key and accidental damage, not tampering; chunks can
 * be dropped or reordered undetected. The caller is told so through `onWarning`.
 */
import { ByteReader } from '../../bytes/byte-reader.js';
import { FormatError, UsageError } from '../../errors.js';
import { transferOf } from '../../bytes/copies.js';
import { codecError, locate } from '../codec-errors.js';
import { RecordBatch } from '../record-batch.js';
import { type BlockPool, orderedMap, streamWindow } from '../pool/block-pool.js';
import type { XbcryptChunksJob } from '../pool/jobs.js';

/** Largest encrypted chunk accepted (XtraBackup writes 64 KiB chunks by default). */
export const XBCRYPT_MAX_CHUNK_BYTES = 64 << 20;
const BATCH_BYTES = 1 << 20;
const SHA256_BYTES = 32;
const IV_BYTES = 16;

export const XBCRYPT_KEY_BYTES = [16, 24, 32] as const;

/** Checks a raw xbcrypt key (used byte for byte, as XtraBackup does). */
export function checkXbcryptKey(key: Uint8Array, source: string): void {
  if ((XBCRYPT_KEY_BYTES as readonly number[]).includes(key.length)) return;
  const trailing = key.length > 0 && (key[key.length - 1] === 0x0a || key[key.length - 1] === 0x0d);
  const hint =
    trailing && (XBCRYPT_KEY_BYTES as readonly number[]).includes(key.length - 1)
      ? ` (it ends with a newline; XtraBackup uses key files byte for byte, so write the key without one: printf '%s' KEY > FILE)`
      : '';
  throw new UsageError(`${source}: an xbcrypt key is used raw and must be 16, 24 or 32 bytes (AES-128/192/256), not ${key.length}${hint}`);
}

type Batch = RecordBatch<XbcryptChunksJob>;

function u64(b: Uint8Array, at: number): number {
  const big = new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0, true);
  return big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
}

async function* scanChunks(reader: ByteReader, path: string, key: Uint8Array): AsyncGenerator<Batch> {
  let chunk = 0;
  let batch: Batch | undefined;

  let version: 1 | 2 | 3 | undefined;
  const flush = (): Batch => {
    const sealed = (batch as Batch).seal();
    batch = undefined;
    return sealed;
  };
  for (;;) {
    const offset = reader.offset;
    const head = (await reader.readExact(36, `the header of xbcrypt chunk ${chunk + 1}`, true)) as Uint8Array | undefined;
    if (head === undefined) break;
    const where = { path, offset, chunk: chunk + 1 };
    const magic = new TextDecoder('latin1').decode(head.subarray(0, 8));
    const m = /^XBCRYP0([123])$/.exec(magic);
    if (m === null) {
      throw new FormatError(
        'E_XBCRYPT_MAGIC',
        chunk === 0 ? `not an xbcrypt file: it starts with ${JSON.stringify(magic)}` : `xbcrypt chunk ${chunk + 1} has no XBCRYP magic`,
        where,
      );
    }
    const v = Number(m[1]) as 1 | 2 | 3;
    if (version !== undefined && v !== version) {
      if (batch !== undefined) yield flush();
    }
    version = v;
    const originalBytes = u64(head, 16);
    const encryptedBytes = u64(head, 24);
    const crc = new DataView(head.buffer, head.byteOffset + 32, 4).getUint32(0, true);
    if (encryptedBytes > XBCRYPT_MAX_CHUNK_BYTES) {
      throw new FormatError('E_XBCRYPT_CHUNK', `xbcrypt chunk of ${encryptedBytes} bytes is larger than the ${XBCRYPT_MAX_CHUNK_BYTES} allowed`, where);
    }
    if (originalBytes !== encryptedBytes) {
      throw new FormatError('E_XBCRYPT_CHUNK', `xbcrypt chunk sizes disagree (original ${originalBytes}, encrypted ${encryptedBytes})`, where);
    }
    if (v === 3 && encryptedBytes < SHA256_BYTES) {
      throw new FormatError('E_XBCRYPT_CHUNK', `xbcrypt chunk of ${encryptedBytes} bytes cannot hold its SHA-256`, where);
    }
    let iv = new Uint8Array(0);
    if (v >= 2) {
      const ivBytes = u64((await reader.readExact(8, `the IV length of xbcrypt chunk ${chunk + 1}`)) as Uint8Array, 0);
      if (ivBytes !== IV_BYTES) throw new FormatError('E_XBCRYPT_CHUNK', `xbcrypt IV of ${ivBytes} bytes (expected 16)`, where);
      iv = ((await reader.readExact(IV_BYTES, `the IV of xbcrypt chunk ${chunk + 1}`)) as Uint8Array).slice();
    }
    batch ??= new RecordBatch<XbcryptChunksJob>({ kind: 'xbcrypt-open', key, version: v, input: new Uint8Array(0), sizes: [], ivs: [], crc32: [] }, chunk);
    for await (const piece of reader.stream(encryptedBytes, `xbcrypt chunk ${chunk + 1}`)) {
      batch.add(piece);
    }
    batch.job.sizes.push(encryptedBytes);
    batch.job.ivs.push(iv);
    batch.job.crc32.push(crc);
    batch.offsets.push(offset);
    chunk += 1;
    if (batch.bytes >= BATCH_BYTES) yield flush();
  }
  if (batch !== undefined) yield flush();
}

export interface XbcryptDecodeOptions {
  pool: BlockPool;
  path: string;
  key: Uint8Array;
}

export async function* decodeXbcrypt(content: AsyncIterable<Uint8Array>, options: XbcryptDecodeOptions): AsyncGenerator<Uint8Array> {
  const { pool, path, key } = options;
  checkXbcryptKey(key, 'the xbcrypt key');
  const reader = new ByteReader(content, path);
  try {
    const results = orderedMap(scanChunks(reader, path, key), streamWindow(pool), async (batch) => {
      try {
        return (await pool.run(batch.job, transferOf(batch.job.input))).output;
      } catch (err) {
        const item = err instanceof Error && 'failure' in err ? (err as { failure: { item?: number } }).failure.item : undefined;
        const chunk = batch.first + (item ?? 0) + 1;
        return Promise.reject(codecError(err, `xbcrypt chunk ${chunk}`, { path, chunk, offset: batch.offsets[item ?? 0] ?? 0 }));
      }
    });
    for await (const out of results) if (out.length > 0) yield out;
  } catch (err) {
    throw locate(err, path);
  } finally {
    await reader.close();
  }
}
