/**
 * Decrypting age v1 files (from sluice or the `age` CLI). The header is parsed and its MAC checked by
 * `age-encryption` (with our scrypt identity for passphrases); file keys are cached per distinct
 * header, so the files of one sluice backup cost one unwrap in all. The payload is opened with node's
 * ChaCha20-Poly1305 on the worker pool (see encrypt.ts for why), 16 chunks per job, each chunk
 * authenticated; the last chunk must carry the last-chunk flag, so truncation at a chunk boundary is
 * detected too. Nothing unauthenticated is ever yielded.
 */
import { Decrypter } from 'age-encryption';
import { ByteReader } from '../../bytes/byte-reader.js';
import { ExitCode, FormatError, IntegrityError, SluiceError } from '../../errors.js';
import { concatBytes, transferOf } from '../../bytes/copies.js';
import { codecError, locate } from '../codec-errors.js';
import { type BlockPool, orderedMap, streamWindow } from '../pool/block-pool.js';
import { AGE_SEALED_CHUNK_BYTES } from './format.js';
import { agePayloadKey } from './encrypt.js';
import { ScryptIdentity } from './keys.js';

const MAGIC_LINE = 'age-encryption.org/v1\n';
const ARMOR_START = '-----BEGIN AGE ENCRYPTED FILE-----';
/** Largest header accepted (thousands of recipients). */
export const AGE_MAX_HEADER_BYTES = 1 << 20;
const BATCH_CHUNKS = 32;
const NONCE_BYTES = 16;
const KEY_CACHE_ENTRIES = 64;

export interface AgeDecryptOptions {
  /** X25519 identities (`AGE-SECRET-KEY-1...`). */
  identities?: readonly string[];
  /** Passphrases to try (scrypt). */
  passphrases?: readonly string[];
  threads?: number;
  pool: BlockPool;
}

export class AgeDecryptor {
  readonly #decrypter = new Decrypter();
  readonly #keys = new Map<string, Promise<Uint8Array>>();
  readonly pool: BlockPool;

  constructor(options: AgeDecryptOptions) {
    this.pool = options.pool;
    if ((options.identities?.length ?? 0) === 0 && (options.passphrases?.length ?? 0) === 0) {
      throw new SluiceError('E_NO_KEY', 'decrypting age files needs an identity file or a passphrase', {}, { exitCode: ExitCode.usage });
    }
    for (const identity of options.identities ?? []) {
      try {
        this.#decrypter.addIdentity(identity);
      } catch (err) {
        throw new SluiceError('E_BAD_IDENTITY', `age identity: ${err instanceof Error ? err.message : String(err)}`, {}, { exitCode: ExitCode.usage });
      }
    }
    for (const passphrase of options.passphrases ?? []) this.#decrypter.addIdentity(new ScryptIdentity(passphrase));
  }

  /** The file key of a header (MAC checked), computed once per distinct header. */
  fileKey(header: Uint8Array, path: string): Promise<Uint8Array> {
    const id = Buffer.from(header).toString('base64');
    let key = this.#keys.get(id);
    if (key === undefined) {
      key = this.#decrypter.decryptHeader(header).catch((err: unknown) => {
        this.#keys.delete(id);
        throw headerError(err, path);
      });
      if (this.#keys.size >= KEY_CACHE_ENTRIES) {
        const oldest = this.#keys.keys().next().value;
        if (oldest !== undefined) this.#keys.delete(oldest);
      }
      this.#keys.set(id, key);
    }
    return key;
  }

  decrypt(content: AsyncIterable<Uint8Array>, path: string): AsyncGenerator<Uint8Array> {
    return decryptAge(content, path, this);
  }
}

function headerError(err: unknown, path: string): SluiceError {
  const message = err instanceof Error ? err.message : String(err);
  if (/no identity matched/.test(message)) {
    return new SluiceError('E_WRONG_KEY', 'none of the given age identities or passphrases opens this file (wrong key?)', { path, offset: 0 }, {
      exitCode: ExitCode.wrongPassword,
    });
  }
  if (/HMAC/.test(message)) return new IntegrityError('E_AGE_HEADER_MAC', 'age header failed authentication (the header is corrupt)', { path, offset: 0 });
  return new FormatError('E_AGE_HEADER', `malformed age header: ${message}`, { path, offset: 0 }, { cause: err });
}

/**
 * Splits the age header (through the `--- MAC` line) from the payload without consuming more: the
 * bytes after the header are handed back as the first chunk of the rest.
 */
async function splitHeader(
  content: AsyncIterable<Uint8Array>,
  path: string,
): Promise<{ header: Uint8Array; rest: AsyncIterable<Uint8Array>; close: () => Promise<void> }> {
  const it = content[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let have = 0;
  let searchFrom = 0;
  /** Where the `--- MAC` line starts, once seen (its end may come in a later chunk). */
  let macAt = -1;
  let joined: Uint8Array = new Uint8Array(0);
  for (;;) {
    const next = await it.next();
    if (next.done === true) {
      const text = Buffer.from(concatBytes(parts)).toString('latin1');
      if (have === 0) throw new FormatError('E_AGE_EMPTY', 'empty file: not an age file', { path, offset: 0 });
      if (!MAGIC_LINE.startsWith(text.slice(0, MAGIC_LINE.length)) && !text.startsWith(MAGIC_LINE)) throw notAge(text, path);
      throw new FormatError('E_TRUNCATED', 'age file ends inside its header', { path, offset: have });
    }
    parts.push(next.value);
    have += next.value.length;
    joined = concatBytes(parts, have);
    parts.length = 0;
    parts.push(joined);
    const text = Buffer.from(joined.buffer, joined.byteOffset, Math.min(joined.length, AGE_MAX_HEADER_BYTES + 1)).toString('latin1');
    if (text.length >= MAGIC_LINE.length && !text.startsWith(MAGIC_LINE)) throw notAge(text, path);
    if (macAt < 0) macAt = text.indexOf('\n--- ', Math.max(0, searchFrom - 4));
    const end = macAt < 0 ? -1 : text.indexOf('\n', macAt + 1);
    if (end >= 0) {
      const header = joined.slice(0, end + 1);
      const leftover = joined.subarray(end + 1);
      async function* rest(): AsyncGenerator<Uint8Array> {
        if (leftover.length > 0) yield leftover;
        for (;;) {
          const n = await it.next();
          if (n.done === true) return;
          yield n.value;
        }
      }
      return { header, rest: rest(), close: async () => void (await it.return?.()) };
    }
    if (have > AGE_MAX_HEADER_BYTES) {
      await it.return?.();
      throw new FormatError('E_AGE_HEADER', `age header is longer than ${AGE_MAX_HEADER_BYTES} bytes`, { path, offset: 0 });
    }
    searchFrom = text.length;
  }
}

function notAge(text: string, path: string): FormatError {
  if (text.startsWith(ARMOR_START)) {
    return new FormatError('E_AGE_ARMOR', 'ASCII-armored age files are not supported; decrypt with age -d', { path, offset: 0 });
  }
  return new FormatError('E_AGE_MAGIC', `not an age file: it does not start with "age-encryption.org/v1"`, { path, offset: 0 });
}

interface Batch {
  input: Uint8Array;
  counter: number;
  final: boolean;
  offset: number;
}

async function* payloadBatches(reader: ByteReader, start: number): AsyncGenerator<Batch> {
  const batchBytes = AGE_SEALED_CHUNK_BYTES * BATCH_CHUNKS;
  let counter = 0;
  for (;;) {
    const offset = start + reader.offset;
    const parts: Uint8Array[] = [];
    let have = 0;
    while (have < batchBytes) {
      const piece = await reader.readSome(batchBytes - have);
      if (piece === undefined) break;
      parts.push(piece);
      have += piece.length;
    }
    const final = have < batchBytes || (await reader.atEnd());
    yield { input: concatBytes(parts, have), counter, final, offset };
    if (final) return;
    counter += BATCH_CHUNKS;
  }
}

async function* decryptAge(content: AsyncIterable<Uint8Array>, path: string, decryptor: AgeDecryptor): AsyncGenerator<Uint8Array> {
  const { header, rest, close } = await splitHeader(content, path);
  const reader = new ByteReader(rest, path);
  try {
    const fileKey = await decryptor.fileKey(header, path);
    const nonce = await reader.readExact(NONCE_BYTES, 'the age payload nonce');
    const key = agePayloadKey(fileKey, nonce as Uint8Array);
    const payloadStart = header.length + NONCE_BYTES;
    const pool = decryptor.pool;
    const results = orderedMap(payloadBatches(reader, header.length), streamWindow(pool), async (batch) => {
      try {
        return (await pool.run({ kind: 'age-open', key, counter: batch.counter, final: batch.final, input: batch.input }, transferOf(batch.input))).output;
      } catch (err) {
        const item = err instanceof Error && 'failure' in err ? (err as { failure: { item?: number } }).failure.item : undefined;
        const chunk = batch.counter + (item ?? 0);
        return Promise.reject(
          codecError(err, `age payload chunk ${chunk + 1}`, { path, offset: payloadStart + chunk * AGE_SEALED_CHUNK_BYTES }),
        );
      }
    });
    for await (const out of results) if (out.length > 0) yield out;
  } catch (err) {
    throw locate(err, path);
  } finally {
    await reader.close();
    await close();
  }
}
