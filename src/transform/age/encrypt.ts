/**
 * Per-file age encryption: `x.zst` becomes `x.zst.age`, a standard age v1 file that `age -d` opens.
 *
 * Header and recipients come from `age-encryption` (X25519 `age1...` recipients; the scrypt
 * passphrase recipient is ours, see keys.ts). The payload does not: `age-encryption` seals it with a
 * pure-JS ChaCha20-Poly1305 about twelve times slower than node's (OpenSSL; figures in the decision log
 * of docs/architecture.md), so the STREAM construction runs here with node's crypto, on the
 * worker pool: 64 KiB chunks, nonce = 11-byte big-endian counter + last-chunk flag, payload key =
 * HKDF-SHA-256(file key, salt = the file's 16-byte nonce, info "payload").
 *
 * One header (one file key, wrapped once for the recipients) serves every file of a run. Each file
 * still gets its own random 16-byte nonce and so its own payload key, which is what age's design
 * relies on (the nonce exists so that a file key can be reused safely); the cost of the recipient
 * work, and of scrypt in passphrase mode, is paid once per run instead of once per file. A reader
 * who can open one file's header can open all of them in either design.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { Encrypter } from 'age-encryption';
import type { FileEntry } from '../../entry.js';
import { toSafePath } from '../../entry.js';
import { UsageError } from '../../errors.js';
import { concatBytes, copyOf, transferOf } from '../../bytes/copies.js';
import { BlockBuffers, encodeBlocks, gatherInto, type OutputBlocks, type Release, smallStream } from '../codec-blocks.js';
import { codecError } from '../codec-errors.js';
import type { FileTransform } from '../entry-transform.js';
import { BlockPool, streamWindow } from '../pool/block-pool.js';
import { AGE_CHUNK_BYTES, AGE_TAG_BYTES } from './format.js';
import { AGE_SCRYPT_LOG_N, ScryptRecipient } from './keys.js';

export const AGE_SUFFIX = '.age';
/** Plaintext per worker job: 32 STREAM chunks (2 MiB). */
const BATCH_CHUNKS = 32;
const NONCE_BYTES = 16;

export interface AgeEncryptOptions {
  /** X25519 recipients (`age1...`); the host encrypting never needs the identity. */
  recipients?: readonly string[];
  /** Or a passphrase (scrypt). */
  passphrase?: string;
  /** scrypt work factor for new files (default 18, as age). */
  scryptLogN?: number;
  /** Worker threads (default 1). */
  threads?: number;
  pool?: BlockPool;
  /** Told about each input chunk once its bytes are copied (to recycle a source's read buffers). */
  release?: Release;
  /**
   * Gather the output into blocks from this pool (encryption is the last transform). Without it, output
   * is lent to the consumer, which gives each chunk back with `recycle` once it no longer reads it.
   */
  output?: OutputBlocks;
}

/** The payload key of one file: HKDF-SHA-256(file key, salt = nonce, info = "payload"), 32 bytes. */
export function agePayloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

interface Header {
  bytes: Uint8Array;
  fileKey: Uint8Array;
}

/** Builds an age header with `age-encryption`, keeping the file key it draws (via a recipient that adds no stanza). */
async function makeHeader(options: AgeEncryptOptions): Promise<Header> {
  const encrypter = new Encrypter();
  let fileKey: Uint8Array | undefined;
  try {
    if (options.passphrase !== undefined) {
      encrypter.addRecipient(new ScryptRecipient(options.passphrase, options.scryptLogN ?? AGE_SCRYPT_LOG_N));
    }
    for (const r of options.recipients ?? []) encrypter.addRecipient(r);
  } catch (err) {
    throw new UsageError(`age recipient: ${err instanceof Error ? err.message : String(err)}`);
  }
  encrypter.addRecipient({
    wrapFileKey(key: Uint8Array) {
      fileKey = key.slice();
      return [];
    },
  });
  // an empty file is header ‖ 16-byte nonce ‖ one empty sealed chunk (16-byte tag)
  const empty = await encrypter.encrypt(new Uint8Array(0));
  if (fileKey === undefined) throw new Error('age-encryption did not draw a file key');
  return { bytes: empty.slice(0, empty.length - NONCE_BYTES - 16), fileKey };
}

export interface AgeEncryptor {
  transform: FileTransform;
  encrypt(content: AsyncIterable<Uint8Array>, path?: string): AsyncGenerator<Uint8Array>;
  /** Gives back a chunk `encrypt` yielded, once the consumer no longer reads it (see codec-blocks.ts). */
  readonly recycle: Release;
  readonly pool: BlockPool;
}

export function createAgeEncryptor(options: AgeEncryptOptions): AgeEncryptor {
  const recipients = options.recipients ?? [];
  if ((options.passphrase === undefined) === (recipients.length === 0)) {
    throw new UsageError('age encryption needs either recipients or a passphrase (not both)');
  }
  // fail on a malformed recipient now, not at the first file
  for (const r of recipients) {
    try {
      new Encrypter().addRecipient(r);
    } catch (err) {
      throw new UsageError(`age recipient ${JSON.stringify(r)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const pool = options.pool ?? new BlockPool({ threads: options.threads ?? 1 });
  const buffers = new BlockBuffers(AGE_CHUNK_BYTES * BATCH_CHUNKS, pool.capacity + 2);
  const outputs = new BlockBuffers((AGE_CHUNK_BYTES + AGE_TAG_BYTES) * BATCH_CHUNKS, pool.capacity + streamWindow(pool) + 2);
  const recycle: Release = (chunk) => outputs.give(chunk);
  let header: Promise<Header> | undefined;

  /** The file's header and nonce, and its payload key. */
  async function begin(): Promise<{ start: Uint8Array; key: Uint8Array }> {
    header ??= makeHeader(options);
    const h = await header;
    const nonce = randomBytes(NONCE_BYTES);
    const start = new Uint8Array(h.bytes.length + NONCE_BYTES);
    start.set(h.bytes);
    start.set(nonce, h.bytes.length);
    return { start, key: agePayloadKey(h.fileKey, nonce) };
  }

  async function* encrypt(content: AsyncIterable<Uint8Array>, path?: string): AsyncGenerator<Uint8Array> {
    const first = await smallStream(content, buffers.blockBytes / 4);
    if (first.empty || first.whole !== undefined) {
      // empty, or one small chunk (most files of a tree): one job, one output piece
      const { start, key } = await begin();
      const input = first.whole === undefined ? new Uint8Array(0) : copyOf(first.whole);
      if (first.whole !== undefined) options.release?.(first.whole);
      try {
        const out = (await pool.run({ kind: 'age-seal', key, counter: 0, final: true, input }, transferOf(input))).output;
        yield concatBytes([start, out]);
      } catch (err) {
        throw codecError(err, 'age encryption failed', { path, offset: 0 });
      }
      return;
    }
    yield* options.output === undefined ? sealed(first.rest, path) : gatherInto(sealed(first.rest, path), options.output, recycle);
  }

  async function* sealed(content: AsyncIterable<Uint8Array>, path?: string): AsyncGenerator<Uint8Array> {
    const { start, key } = await begin();
    yield start;
    let batches = 0;
    const chunks = encodeBlocks(content, {
      pool,
      inputs: buffers,
      outputs,
      window: streamWindow(pool),
      ...(options.release === undefined ? {} : { release: options.release }),
      job: (block, output) => {
        const job = { kind: 'age-seal', key, counter: block.offset / AGE_CHUNK_BYTES, final: block.last, input: block.bytes } as const;
        return output === undefined ? job : { ...job, output };
      },
      failure: (err, block) => codecError(err, 'age encryption failed', { path, offset: block.offset }),
    });
    for await (const out of chunks) {
      batches += 1;
      yield out;
    }
    if (batches === 0) {
      yield (await pool.run({ kind: 'age-seal', key, counter: 0, final: true, input: new Uint8Array(0) })).output;
    }
  }

  const transform: FileTransform = (entry: FileEntry): FileEntry => {
    const { size: _size, ...rest } = entry;
    return { ...rest, path: toSafePath(entry.path + AGE_SUFFIX), content: encrypt(entry.content, entry.path) };
  };
  return { transform, encrypt, recycle, pool };
}
