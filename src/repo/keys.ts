/**
 * Key files (`keys/<id>`): the master key wrapped by a passphrase. Several can exist (one per
 * passphrase), so passphrases can be added, changed and removed without touching any other object.
 *
 * A key file is JSON with a plaintext description (KDF and parameters, salt, creation time, host,
 * user) and `data`: AES-256-GCM(kek, nonce, master key), kek = scrypt(passphrase, salt, N, r, p).
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { ExitCode, FormatError, SluiceError, UsageError } from '../errors.js';
import { type MasterKey, MASTER_KEY_BYTES, masterKeyFrom } from './crypto/master-key.js';
import { Limits, Names } from './format.js';
import type { ObjectStore } from './storage/object-store.js';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * scrypt N=2^16, r=8: 64 MiB of memory (kopia's choice; the time it takes and restic's are in the
 * decision log of docs/architecture.md). Stronger parameters can be chosen per key file with --kdf.
 */
export const DEFAULT_KDF: ScryptParams = { N: 2 ** 16, r: 8, p: 1 };

const MAX_LOG_N = 20;
const MAX_KDF_MEMORY = 1024 * 1024 * 1024;
const SALT_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_AAD = Buffer.from('sluice key file v1');
/** Trying more key files than this with one passphrase is refused (each try costs a KDF run). */
const MAX_KEYS_TRIED = 64;

export class WrongPasswordError extends SluiceError {
  constructor(tried: number) {
    super('E_WRONG_PASSWORD', `wrong password: it opens none of the repository's ${tried} key file(s)`, {}, { exitCode: ExitCode.wrongPassword });
  }
}

export interface KeyFile {
  id: string;
  created: string;
  host: string;
  user: string;
  kdf: ScryptParams & { name: 'scrypt'; salt: Buffer };
  nonce: Buffer;
  data: Buffer;
}

export interface KeyInfo {
  id: string;
  created: string;
  host: string;
  user: string;
  kdf: ScryptParams;
}

/** `N=16384,r=8,p=1` (any order, any subset) → parameters, within the caps readers accept. */
export function parseKdfParams(text: string): ScryptParams {
  const out: ScryptParams = { ...DEFAULT_KDF };
  for (const part of text.split(',')) {
    const m = /^\s*([Nrp])\s*=\s*(\d+)\s*$/.exec(part);
    if (m === null) throw new UsageError(`KDF parameters "${text}": expected N=…,r=…,p=…`);
    out[m[1] as 'N' | 'r' | 'p'] = Number(m[2]);
  }
  const problem = kdfProblem(out);
  if (problem !== undefined) throw new UsageError(`KDF parameters "${text}": ${problem}`);
  return out;
}

function kdfProblem(k: ScryptParams): string | undefined {
  if (!Number.isSafeInteger(k.N) || k.N < 2 || k.N > 2 ** MAX_LOG_N || (k.N & (k.N - 1)) !== 0) {
    return `N must be a power of two from 2 to 2^${MAX_LOG_N}`;
  }
  if (!Number.isSafeInteger(k.r) || k.r < 1 || k.r > 32) return 'r must be from 1 to 32';
  if (!Number.isSafeInteger(k.p) || k.p < 1 || k.p > 16) return 'p must be from 1 to 16';
  if (128 * k.N * k.r > MAX_KDF_MEMORY) return 'needs more than 1 GiB of memory';
  return undefined;
}

function deriveKek(passphrase: string, salt: Uint8Array, k: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, { N: k.N, r: k.r, p: k.p, maxmem: 128 * k.N * k.r * 2 + (1 << 20) }, (err, key) =>
      err === null ? resolve(key) : reject(err),
    );
  });
}

export interface NewKeyOptions {
  kdf?: ScryptParams;
  host: string;
  user: string;
  now: Date;
  random?: (n: number) => Buffer;
}

export function encodeKeyFile(k: Omit<KeyFile, 'id'>): Buffer {
  return Buffer.from(
    `${JSON.stringify(
      {
        format: 'sluice-key',
        version: 1,
        created: k.created,
        host: k.host,
        user: k.user,
        kdf: { name: 'scrypt', N: k.kdf.N, r: k.kdf.r, p: k.kdf.p, salt: k.kdf.salt.toString('base64') },
        nonce: k.nonce.toString('base64'),
        data: k.data.toString('base64'),
      },
      null,
      2,
    )}\n`,
  );
}

/** Parses a key file as hostile input: every field checked, every length capped. */
export function decodeKeyFile(bytes: Uint8Array, id: string): KeyFile {
  const where = { object: Names.key(id) };
  const bad = (why: string): never => {
    throw new FormatError('E_BAD_KEY_FILE', `key file is malformed: ${why}`, where);
  };
  if (bytes.length > Limits.smallObjectBytes) bad(`larger than ${Limits.smallObjectBytes} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    bad('not JSON');
  }
  if (typeof doc !== 'object' || doc === null) return bad('not an object');
  const d = doc as Record<string, unknown>;
  if (d.format !== 'sluice-key' || d.version !== 1) bad('unknown format or version');
  const kdf = d.kdf as Record<string, unknown> | undefined;
  if (typeof kdf !== 'object' || kdf === null || kdf.name !== 'scrypt') return bad('unknown KDF');
  const params = { N: Number(kdf.N), r: Number(kdf.r), p: Number(kdf.p) };
  const problem = kdfProblem(params);
  if (problem !== undefined) bad(`KDF parameters: ${problem}`);
  const b64 = (v: unknown, name: string, min: number, max: number): Buffer => {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) bad(`${name} is not base64`);
    const buf = Buffer.from(v as string, 'base64');
    if (buf.length < min || buf.length > max) bad(`${name} has ${buf.length} bytes`);
    return buf;
  };
  const str = (v: unknown, name: string): string => {
    if (typeof v !== 'string' || v.length > 1024) bad(`${name} is not a short string`);
    return v as string;
  };
  return {
    id,
    created: str(d.created, 'created'),
    host: str(d.host, 'host'),
    user: str(d.user, 'user'),
    kdf: { name: 'scrypt', ...params, salt: b64(kdf.salt, 'salt', 16, 64) },
    nonce: b64(d.nonce, 'nonce', NONCE_BYTES, NONCE_BYTES),
    data: b64(d.data, 'data', MASTER_KEY_BYTES + TAG_BYTES, MASTER_KEY_BYTES + TAG_BYTES),
  };
}

/** Wraps the master key under a new passphrase and stores it as a new key file; returns its id. */
export async function addKey(store: ObjectStore, master: MasterKey, passphrase: string, opts: NewKeyOptions): Promise<string> {
  if (passphrase.length === 0) throw new UsageError('an empty password is not allowed');
  const random = opts.random ?? randomBytes;
  const kdf = opts.kdf ?? DEFAULT_KDF;
  const salt = random(SALT_BYTES);
  const nonce = random(NONCE_BYTES);
  const kek = await deriveKek(passphrase, salt, kdf);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(KEY_AAD);
  const data = Buffer.concat([cipher.update(master.material), cipher.final(), cipher.getAuthTag()]);
  const bytes = encodeKeyFile({
    created: opts.now.toISOString(),
    host: opts.host,
    user: opts.user,
    kdf: { name: 'scrypt', ...kdf, salt },
    nonce,
    data,
  });
  const id = random(32).toString('hex');
  await store.put(Names.key(id), bytes);
  return id;
}

async function tryUnwrap(key: KeyFile, passphrase: string): Promise<MasterKey | undefined> {
  const kek = await deriveKek(passphrase, key.kdf.salt, key.kdf);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, key.nonce);
    decipher.setAAD(KEY_AAD);
    decipher.setAuthTag(key.data.subarray(MASTER_KEY_BYTES));
    const material = Buffer.concat([decipher.update(key.data.subarray(0, MASTER_KEY_BYTES)), decipher.final()]);
    return masterKeyFrom(material);
  } catch {
    return undefined;
  }
}

export async function listKeyIds(store: ObjectStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const info of store.list(Names.keysPrefix)) {
    const id = info.name.slice(Names.keysPrefix.length);
    if (/^[0-9a-f]{64}$/.test(id)) ids.push(id);
  }
  return ids.sort();
}

export async function readKeyFile(store: ObjectStore, id: string): Promise<KeyFile> {
  return decodeKeyFile(await store.get(Names.key(id)), id);
}

/** Finds the key file the passphrase opens (a hinted id is tried first). */
export async function unlock(store: ObjectStore, passphrase: string, hint?: string): Promise<{ master: MasterKey; keyId: string }> {
  const ids = await listKeyIds(store);
  if (hint !== undefined) {
    const i = ids.findIndex((id) => id.startsWith(hint));
    if (i > 0) ids.unshift(...ids.splice(i, 1));
  }
  let tried = 0;
  for (const id of ids.slice(0, MAX_KEYS_TRIED)) {
    let key: KeyFile;
    try {
      key = await readKeyFile(store, id);
    } catch (err) {
      if (err instanceof FormatError) continue;
      throw err;
    }
    tried += 1;
    const master = await tryUnwrap(key, passphrase);
    if (master !== undefined) return { master, keyId: id };
  }
  throw new WrongPasswordError(tried);
}

export function describeKey(k: KeyFile): KeyInfo {
  return { id: k.id, created: k.created, host: k.host, user: k.user, kdf: { N: k.kdf.N, r: k.kdf.r, p: k.kdf.p } };
}

/** Deletes a key file: its password no longer opens the repository. */
export function deleteKeyFile(store: ObjectStore, id: string): Promise<void> {
  return store.delete(Names.key(id));
}
