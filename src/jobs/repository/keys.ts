/** The passwords of a repository: each one is a key file wrapping the same master key. */
import { SluiceError, UsageError } from '../../errors.js';
import { deleteKeyFile, describeKey, type KeyInfo, listKeyIds, readKeyFile, type ScryptParams } from '../../repo/keys.js';
import type { Repository } from '../../repo/repository.js';
import type { PasswordSource } from './open.js';

export interface KeyListing extends KeyInfo {
  /** The key the repository was opened with. */
  current: boolean;
}

/** Every key file, described (id, user, host, created, KDF), the one in use marked. */
export async function listKeys(repo: Repository): Promise<KeyListing[]> {
  const keys: KeyListing[] = [];
  for (const id of await listKeyIds(repo.store)) keys.push({ ...describeKey(await readKeyFile(repo.store, id)), current: id === repo.keyId });
  return keys;
}

async function passwordOf(source: PasswordSource): Promise<string> {
  return typeof source === 'string' ? source : source();
}

/** Adds a password (a new key file for the same master key); returns the new key's id. */
export async function addKey(repo: Repository, password: PasswordSource, options: { kdf?: ScryptParams } = {}): Promise<string> {
  return repo.addKey(await passwordOf(password), options.kdf);
}

/**
 * Removes the key file whose id starts with `prefix`. Refuses (E_KEY_IN_USE) to remove the key the
 * repository was opened with: a slip there would leave no password that is known to work.
 */
export async function removeKey(repo: Repository, prefix: string): Promise<string> {
  const matches = (await listKeyIds(repo.store)).filter((id) => id.startsWith(prefix));
  if (matches.length !== 1) throw new UsageError(`"${prefix}" matches ${matches.length} keys`);
  const id = matches[0] as string;
  if (id === repo.keyId) throw new SluiceError('E_KEY_IN_USE', 'refusing to remove the key this password opened (use another password, or `key passwd`)');
  await deleteKeyFile(repo.store, id);
  return id;
}

/**
 * Replaces the key the repository was opened with by one for `password`: the new key file is written
 * first, the old one deleted after, so a failure between leaves both passwords working, never neither.
 */
export async function changePassword(repo: Repository, password: PasswordSource, options: { kdf?: ScryptParams } = {}): Promise<{ removed: string; added: string }> {
  const added = await repo.addKey(await passwordOf(password), options.kdf);
  await deleteKeyFile(repo.store, repo.keyId);
  return { removed: repo.keyId, added };
}
