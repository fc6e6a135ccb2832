/**
 * The repository's master key: 64 random bytes made at `init`, never changed, wrapped by each
 * passphrase's key file. Working keys are derived from it with HKDF-SHA256, one per purpose.
 */
import { hkdfSync, randomBytes } from 'node:crypto';

export const MASTER_KEY_BYTES = 64;

export interface MasterKey {
  /** The 64 secret bytes (only key files store them, wrapped). */
  readonly material: Uint8Array;
  /** Derives per-envelope AES-256-GCM subkeys. */
  readonly dataKey: Uint8Array;
  /** Keys BLAKE3 for blob ids, so ids reveal nothing about the plaintext. */
  readonly idKey: Uint8Array;
  /** Seeds the chunker's gear table, so cut points differ between repositories. */
  readonly chunkerKey: Uint8Array;
}

function derive(material: Uint8Array, label: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', material, new Uint8Array(0), `sluice v1 ${label}`, 32));
}

export function masterKeyFrom(material: Uint8Array): MasterKey {
  if (material.length !== MASTER_KEY_BYTES) throw new Error(`master key must be ${MASTER_KEY_BYTES} bytes`);
  return {
    material: Uint8Array.from(material),
    dataKey: derive(material, 'encryption'),
    idKey: derive(material, 'blob id'),
    chunkerKey: derive(material, 'chunker'),
  };
}

export function newMasterKey(random: (n: number) => Uint8Array = randomBytes): MasterKey {
  return masterKeyFrom(random(MASTER_KEY_BYTES));
}
