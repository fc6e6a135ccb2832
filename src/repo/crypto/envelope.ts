/**
 * The sealed envelope every encrypted thing in a repository uses (blobs, pack headers, index, snapshot,
 * lock and config objects):
 *
 *   salt (12) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16)
 *
 * The AES key is a per-envelope subkey, HMAC-SHA256(dataKey, salt), so no key ever sees enough random
 * 96-bit nonces for a collision to matter (the salt and nonce together act as a 192-bit nonce). The
 * associated data binds the format, the repository id, the object kind and (for blobs) the blob id:
 * an envelope moved to another place, kind or repository fails authentication.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { IntegrityError, type Where } from '../../errors.js';
import {
  ENVELOPE_NONCE_BYTES,
  ENVELOPE_OVERHEAD,
  ENVELOPE_SALT_BYTES,
  ENVELOPE_TAG_BYTES,
  ID_BYTES,
  type ObjectKind,
} from '../format.js';

const AAD_MAGIC = Buffer.from('sluice\x00\x01', 'latin1');
const REPO_ID_BYTES = 32;
const ZERO_ID = new Uint8Array(ID_BYTES);

/** magic (8) ‖ repository id (32) ‖ kind (1) ‖ blob id or zeros (32). */
export function associatedData(repoId: Uint8Array | undefined, kind: ObjectKind, id?: Uint8Array): Buffer {
  const aad = Buffer.alloc(AAD_MAGIC.length + REPO_ID_BYTES + 1 + ID_BYTES);
  AAD_MAGIC.copy(aad, 0);
  if (repoId !== undefined) aad.set(repoId.subarray(0, REPO_ID_BYTES), AAD_MAGIC.length);
  aad[AAD_MAGIC.length + REPO_ID_BYTES] = kind;
  aad.set(id ?? ZERO_ID, AAD_MAGIC.length + REPO_ID_BYTES + 1);
  return aad;
}

function subkey(dataKey: Uint8Array, salt: Uint8Array): Buffer {
  return createHmac('sha256', dataKey).update(salt).digest();
}

/**
 * Seals the concatenation of `parts`; returns the envelope as [head, ciphertext…, tag] so large
 * payloads are not copied once more (a writer can write the parts back to back).
 */
export function sealParts(
  dataKey: Uint8Array,
  aad: Uint8Array,
  parts: readonly Uint8Array[],
  random: (n: number) => Uint8Array = randomBytes,
): Uint8Array[] {
  const head = random(ENVELOPE_SALT_BYTES + ENVELOPE_NONCE_BYTES);
  const cipher = createCipheriv(
    'aes-256-gcm',
    subkey(dataKey, head.subarray(0, ENVELOPE_SALT_BYTES)),
    head.subarray(ENVELOPE_SALT_BYTES),
  );
  cipher.setAAD(aad);
  const out: Uint8Array[] = [head];
  for (const part of parts) {
    if (part.length > 0) out.push(cipher.update(part));
  }
  const last = cipher.final();
  if (last.length > 0) out.push(last);
  out.push(cipher.getAuthTag());
  return out;
}

/** Bytes encrypted per cipher call by `sealInto`: each call's output is a fresh buffer, so they stay small. */
const SEAL_STEP_BYTES = 256 * 1024;

/**
 * Seals the concatenation of `parts` into `out` (salt, nonce, ciphertext, tag from offset 0) and returns
 * the envelope's length: the bytes are those `sealParts` would give. A part may be a view into `out`
 * itself (a chunk sealed where it lies): a piece of ciphertext is copied in only once no unread plaintext
 * lies below its end, and the salt and nonce last. `release` gets each piece of ciphertext once copied.
 */
export function sealInto(
  dataKey: Uint8Array,
  aad: Uint8Array,
  parts: readonly Uint8Array[],
  out: Uint8Array,
  release: (piece: Uint8Array) => void = () => undefined,
  random: (n: number) => Uint8Array = randomBytes,
): number {
  const headBytes = ENVELOPE_SALT_BYTES + ENVELOPE_NONCE_BYTES;
  const plainBytes = parts.reduce((n, p) => n + p.length, 0);
  if (headBytes + plainBytes + ENVELOPE_TAG_BYTES > out.length) throw new Error('sealInto: the envelope does not fit');
  // Where each part lies in `out` (-1: elsewhere).
  const inOut = parts.map((p) => (p.buffer === out.buffer ? p.byteOffset - out.byteOffset : -1));
  parts.forEach((p, i) => {
    const at = inOut[i] as number;
    if (at >= 0 && (p.byteOffset < out.byteOffset || at + p.length > out.length)) throw new Error('sealInto: a part overlaps the envelope partly');
  });
  /** The lowest offset of `out` still to be read: part i from byte `from` on, and the parts after it. */
  const unreadFrom = (i: number, from: number): number => {
    let lowest = Number.POSITIVE_INFINITY;
    for (let j = i; j < parts.length; j++) {
      const at = inOut[j] as number;
      const skip = j === i ? from : 0;
      if (at >= 0 && skip < (parts[j] as Uint8Array).length) lowest = Math.min(lowest, at + skip);
    }
    return lowest;
  };
  const head = random(headBytes);
  const cipher = createCipheriv('aes-256-gcm', subkey(dataKey, head.subarray(0, ENVELOPE_SALT_BYTES)), head.subarray(ENVELOPE_SALT_BYTES));
  cipher.setAAD(aad);
  let writeAt = headBytes;
  const pending: Uint8Array[] = [];
  const flush = (limit: number): void => {
    for (let next = pending[0]; next !== undefined && writeAt + next.length <= limit; next = pending[0]) {
      out.set(next, writeAt);
      writeAt += next.length;
      pending.shift();
      release(next);
    }
  };
  parts.forEach((part, i) => {
    for (let at = 0; at < part.length; at += SEAL_STEP_BYTES) {
      const end = Math.min(part.length, at + SEAL_STEP_BYTES);
      pending.push(cipher.update(part.subarray(at, end)));
      flush(unreadFrom(i, end));
    }
  });
  pending.push(cipher.final());
  flush(Number.POSITIVE_INFINITY);
  out.set(head, 0);
  out.set(cipher.getAuthTag(), writeAt);
  return writeAt + ENVELOPE_TAG_BYTES;
}

/** Seals into one contiguous buffer (small objects). */
export function seal(dataKey: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
  return Buffer.concat(sealParts(dataKey, aad, [plaintext]));
}

/** Opens an envelope; any mismatch (wrong key, kind, id, repository, a flipped bit) is an IntegrityError. */
export function open(dataKey: Uint8Array, aad: Uint8Array, envelope: Uint8Array, where: Where, what: string): Buffer {
  if (envelope.length < ENVELOPE_OVERHEAD) {
    throw new IntegrityError('E_ENVELOPE_SHORT', `${what} is too short to be sealed (${envelope.length} bytes)`, where);
  }
  const saltEnd = ENVELOPE_SALT_BYTES;
  const nonceEnd = saltEnd + ENVELOPE_NONCE_BYTES;
  const tagStart = envelope.length - ENVELOPE_TAG_BYTES;
  try {
    const decipher = createDecipheriv('aes-256-gcm', subkey(dataKey, envelope.subarray(0, saltEnd)), envelope.subarray(saltEnd, nonceEnd));
    decipher.setAAD(aad);
    decipher.setAuthTag(envelope.subarray(tagStart));
    const body = decipher.update(envelope.subarray(nonceEnd, tagStart));
    const tail = decipher.final();
    return tail.length === 0 ? body : Buffer.concat([body, tail]);
  } catch (err) {
    throw new IntegrityError('E_AUTH_FAILED', `${what} failed authentication (corrupted, or not from this repository)`, where, { cause: err });
  }
}
