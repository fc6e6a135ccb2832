/**
 * The text of age key files (recipients, identities, passphrase), checked for shape only: kept apart from
 * keys.ts so that parsing options does not load `age-encryption` (the recipients themselves are checked by
 * the encryptor, see encrypt.ts).
 */
import { UsageError } from '../../errors.js';

/** Lines of an age recipients or identities file, without comments and blank lines. */
export function keyFileLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The age recipients in a recipients file (`age1...` per line; `#` comments). */
export function parseRecipients(text: string, source: string): string[] {
  const lines = keyFileLines(text);
  for (const line of lines) {
    if (line.startsWith('ssh-')) throw new UsageError(`${source}: SSH recipients are not supported; use age X25519 recipients (age1...)`);
    if (!line.startsWith('age1')) throw new UsageError(`${source}: ${JSON.stringify(line.slice(0, 20))} is not an age recipient (age1...)`);
  }
  if (lines.length === 0) throw new UsageError(`${source}: no recipients in the file`);
  return lines;
}

/** The age identities in an identity file (as written by age-keygen: `AGE-SECRET-KEY-1...` lines). */
export function parseIdentities(text: string, source: string): string[] {
  const lines = keyFileLines(text);
  for (const line of lines) {
    if (line.startsWith('-----BEGIN')) throw new UsageError(`${source}: SSH and PEM keys are not supported; use an age identity file (age-keygen)`);
    if (!line.startsWith('AGE-SECRET-KEY-')) throw new UsageError(`${source}: a line is not an age identity (AGE-SECRET-KEY-1...)`);
  }
  if (lines.length === 0) throw new UsageError(`${source}: no identities in the file`);
  return lines;
}

/** A passphrase file's content: the whole file, less one trailing newline (what `echo pw > file` adds). */
export function parsePassphraseFile(text: string, source: string): string {
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase.length === 0) throw new UsageError(`${source}: the passphrase file is empty`);
  return passphrase;
}
