/** The age job of a codec worker: seal or open consecutive STREAM chunks (ChaCha20-Poly1305). */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { fail } from '../pool/job-failure.js';
import type { AgeStreamJob, CodecResult } from '../pool/jobs.js';
import { ownedBytes } from '../pool/owned-bytes.js';
import { AGE_CHUNK_BYTES, AGE_SEALED_CHUNK_BYTES, AGE_TAG_BYTES, ageNonce } from './format.js';

export function ageStream(job: AgeStreamJob): CodecResult {
  const input = job.input;
  const sealing = job.kind === 'age-seal';
  const inChunk = sealing ? AGE_CHUNK_BYTES : AGE_SEALED_CHUNK_BYTES;
  const chunks = Math.max(1, Math.ceil(input.length / inChunk));
  if (!sealing && input.length - (chunks - 1) * inChunk < AGE_TAG_BYTES) {
    fail('E_AGE_TRUNCATED', 'age payload ends inside a chunk tag (the file is truncated)', chunks - 1, true);
  }
  const outBytes = sealing ? input.length + chunks * AGE_TAG_BYTES : input.length - chunks * AGE_TAG_BYTES;
  const output = job.output !== undefined && job.output.length >= outBytes ? job.output.subarray(0, outBytes) : ownedBytes(outBytes);
  let at = 0;
  let out = 0;
  for (let i = 0; i < chunks; i++) {
    const piece = input.subarray(at, Math.min(at + inChunk, input.length));
    at += piece.length;
    const last = job.final && i === chunks - 1;
    const nonce = ageNonce(job.counter + i, last);
    if (sealing) {
      const cipher = createCipheriv('chacha20-poly1305', job.key, nonce, { authTagLength: AGE_TAG_BYTES });
      const body = cipher.update(piece);
      cipher.final();
      output.set(body, out);
      out += body.length;
      output.set(cipher.getAuthTag(), out);
      out += AGE_TAG_BYTES;
    } else {
      if (piece.length < AGE_TAG_BYTES) fail('E_AGE_TRUNCATED', 'age chunk is shorter than its tag', i, true);
      const decipher = createDecipheriv('chacha20-poly1305', job.key, nonce, { authTagLength: AGE_TAG_BYTES });
      decipher.setAuthTag(piece.subarray(piece.length - AGE_TAG_BYTES));
      const body = decipher.update(piece.subarray(0, piece.length - AGE_TAG_BYTES));
      try {
        decipher.final();
      } catch {
        fail('E_AGE_AUTH', ageOpenFailure(job.key, job.counter + i, piece, last), i, true);
      }
      output.set(body, out);
      out += body.length;
    }
  }
  return { output, ...(sealing ? { recycled: job.input } : {}) };
}

/** Says why a chunk did not open: when it opens with the other value of the last-chunk flag, the file was cut or extended at a chunk boundary. */
function ageOpenFailure(key: Uint8Array, counter: number, piece: Uint8Array, last: boolean): string {
  const retry = createDecipheriv('chacha20-poly1305', key, ageNonce(counter, !last), { authTagLength: AGE_TAG_BYTES });
  retry.setAuthTag(piece.subarray(piece.length - AGE_TAG_BYTES));
  retry.update(piece.subarray(0, piece.length - AGE_TAG_BYTES));
  try {
    retry.final();
  } catch {
    return 'age chunk failed authentication: the file is corrupt or was encrypted with another key';
  }
  return last
    ? 'age file is truncated: its last chunk is not marked as the last one'
    : 'age file has data after the chunk marked as its last one';
}
