/**
 * Keys for age encryption: X25519 recipients and identities (handled by `age-encryption`), and the
 * scrypt passphrase recipient and identity, which we plug into `age-encryption` as custom ones built on
 * node's scrypt: the library's pure-JS scrypt blocks the event loop for seconds at age's work factor,
 * node's runs on the libuv pool in a fraction of that. Both follow the age spec: the stanza is
 * `-> scrypt <salt, 16 bytes, base64 without padding> <log2 N>` and its body is the file key sealed
 * with ChaCha20-Poly1305 under scrypt(passphrase, "age-encryption.org/v1/scrypt" + salt, N, r=8, p=1)
 * and an all-zero nonce. A scrypt stanza must be the only one in its header.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback } from 'node:crypto';
import { type Identity, type Recipient, Stanza } from 'age-encryption';
import { UsageError } from '../../errors.js';

/** age's default work factor for new files (the age CLI uses 18 as well). */
export const AGE_SCRYPT_LOG_N = 18;
/** Highest work factor accepted when decrypting (the age CLI's limit); higher would let a file pin a CPU for minutes. */
export const AGE_SCRYPT_MAX_LOG_N = 22;
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
const FILE_KEY_BYTES = 16;
const TAG_BYTES = 16;

function scrypt(passphrase: string, salt: Uint8Array, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  const label = Buffer.from(SCRYPT_LABEL, 'latin1');
  return new Promise((resolve, reject) =>
    scryptCallback(passphrase, Buffer.concat([label, salt]), 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 + (1 << 20) }, (err, key) =>
      err === null ? resolve(key) : reject(err),
    ),
  );
}

function base64NoPad(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

function fromBase64NoPad(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return base64NoPad(bytes) === text ? bytes : undefined;
}

export class ScryptRecipient implements Recipient {
  constructor(
    readonly passphrase: string,
    readonly logN = AGE_SCRYPT_LOG_N,
  ) {
    if (passphrase.length === 0) throw new UsageError('the passphrase is empty');
  }

  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const salt = randomBytes(16);
    const key = await scrypt(this.passphrase, salt, this.logN);
    const cipher = createCipheriv('chacha20-poly1305', key, new Uint8Array(12), { authTagLength: TAG_BYTES });
    const body = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
    return [new Stanza(['scrypt', base64NoPad(salt), String(this.logN)], body)];
  }
}

export class ScryptIdentity implements Identity {
  constructor(
    readonly passphrase: string,
    readonly maxLogN = AGE_SCRYPT_MAX_LOG_N,
  ) {}

  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    for (const s of stanzas) {
      if (s.args[0] !== 'scrypt') continue;
      if (stanzas.length !== 1) throw new Error('a scrypt stanza must be the only one in an age header');
      const salt = s.args.length === 3 ? fromBase64NoPad(s.args[1] as string) : undefined;
      const logNText = s.args[2] ?? '';
      if (salt === undefined || salt.length !== 16 || !/^[1-9][0-9]?$/.test(logNText) || s.body.length !== FILE_KEY_BYTES + TAG_BYTES) {
        throw new Error('invalid scrypt stanza in the age header');
      }
      const logN = Number(logNText);
      if (logN > this.maxLogN) throw new Error(`the file's scrypt work factor 2^${logN} is above the 2^${this.maxLogN} allowed`);
      const key = await scrypt(this.passphrase, salt, logN);
      const decipher = createDecipheriv('chacha20-poly1305', key, new Uint8Array(12), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(s.body.subarray(FILE_KEY_BYTES));
      const fileKey = decipher.update(s.body.subarray(0, FILE_KEY_BYTES));
      try {
        decipher.final();
      } catch {
        return null; // another passphrase
      }
      return new Uint8Array(fileKey);
    }
    return null;
  }
}
