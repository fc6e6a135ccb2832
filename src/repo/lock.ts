/**
 * Repository locks: sealed objects under `locks/`. Backups, check and forget take a shared lock; prune
 * takes an exclusive one. Protocol (safe on any store with read-after-write listing): write our lock,
 * then list; if a conflicting live lock exists, remove ours and wait or fail. Two racing lockers each
 * see the other and both back off, never both proceed.
 *
 * A lock is stale when it was not refreshed for `staleMs` (30 min; holders refresh every 5 min by
 * writing a new lock object and deleting the old one, objects are never updated in place), or when it
 * names this host and a process id that is not running. Stale locks never block; stale locks of dead
 * processes on this host are removed.
 */
import { randomBytes } from 'node:crypto';
import { ExitCode, FormatError, SluiceError } from '../errors.js';
import { idFromName, Limits, Names, ObjectKind } from './format.js';
import type { Repository } from './repository.js';

export interface LockInfo {
  /** Object id (hex). */
  id: string;
  host: string;
  user: string;
  pid: number;
  time: string;
  exclusive: boolean;
  purpose: string;
}

export class LockedError extends SluiceError {
  constructor(holder: LockInfo, wanted: 'exclusive' | 'shared') {
    super(
      'E_LOCKED',
      `repository is locked ${holder.exclusive ? 'exclusively ' : ''}by ${holder.purpose} (pid ${holder.pid} on ${holder.host}, since ${holder.time}); ` +
        `cannot take a${wanted === 'exclusive' ? 'n exclusive' : ' shared'} lock (wait, use --retry-lock, or \`sluice unlock\` if that process is gone)`,
      { object: Names.lock(holder.id) },
      { exitCode: ExitCode.locked },
    );
  }
}

export interface LockOptions {
  exclusive: boolean;
  purpose: string;
  /** The holder's process id (default: this process). */
  pid?: number;
  /** How long to keep retrying when locked (ms; 0: fail at once). */
  retryMs?: number;
  staleMs?: number;
  refreshMs?: number;
  isAlive?: (pid: number) => boolean;
  sleep?: (ms: number) => Promise<void>;
  onWait?: (holder: LockInfo) => void;
  onStale?: (lock: LockInfo) => void;
}

export const STALE_MS = 30 * 60 * 1000;
export const REFRESH_MS = 5 * 60 * 1000;

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function encodeLock(l: Omit<LockInfo, 'id'>): Buffer {
  return Buffer.from(JSON.stringify({ ...l, nonce: randomBytes(8).toString('hex') }));
}

function decodeLock(plain: Uint8Array, id: string): LockInfo {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(Buffer.from(plain).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new FormatError('E_BAD_LOCK', 'lock object is not JSON', { object: Names.lock(id) });
  }
  const s = (v: unknown) => (typeof v === 'string' ? v.slice(0, 255) : '');
  const time = s(d.time);
  if (Number.isNaN(Date.parse(time)) || typeof d.pid !== 'number' || typeof d.exclusive !== 'boolean') {
    throw new FormatError('E_BAD_LOCK', 'lock object is missing fields', { object: Names.lock(id) });
  }
  return { id, host: s(d.host), user: s(d.user), pid: d.pid, time, exclusive: d.exclusive, purpose: s(d.purpose) };
}

export async function listLocks(repo: Repository): Promise<{ locks: LockInfo[]; unreadable: string[] }> {
  const locks: LockInfo[] = [];
  const unreadable: string[] = [];
  for await (const info of repo.store.list(Names.locksPrefix)) {
    const id = idFromName(info.name, Names.locksPrefix);
    if (id === undefined) continue;
    try {
      locks.push(decodeLock(await repo.readObject(ObjectKind.lock, info.name, id, Limits.smallObjectBytes, 'lock object'), id));
    } catch (err) {
      // Deleted between list and read (its holder released it): not a lock any more.
      if ((err as SluiceError).code === 'E_OBJECT_MISSING') continue;
      unreadable.push(info.name);
    }
  }
  return { locks, unreadable };
}

export function isStale(lock: LockInfo, now: Date, host: string, staleMs = STALE_MS, isAlive = processIsAlive): boolean {
  if (now.getTime() - Date.parse(lock.time) > staleMs) return true;
  return lock.host === host && !isAlive(lock.pid);
}

export class RepoLock {
  #id: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> = Promise.resolve();

  private constructor(
    readonly repo: Repository,
    readonly options: LockOptions,
  ) {}

  get id(): string | undefined {
    return this.#id;
  }

  static async acquire(repo: Repository, options: LockOptions): Promise<RepoLock> {
    const lock = new RepoLock(repo, options);
    const deadline = repo.client.now().getTime() + (options.retryMs ?? 0);
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let attempt = 0; ; attempt++) {
      await lock.#write();
      const holder = await lock.#conflict();
      if (holder === undefined) break;
      await lock.#remove();
      if (repo.client.now().getTime() >= deadline) throw new LockedError(holder, options.exclusive ? 'exclusive' : 'shared');
      options.onWait?.(holder);
      await sleep(Math.min(5000, 500 * 2 ** Math.min(attempt, 3)) + Math.floor(Math.random() * 250));
    }
    lock.#timer = setInterval(() => {
      lock.#refreshing = lock.#refresh().catch(() => undefined);
    }, options.refreshMs ?? REFRESH_MS);
    lock.#timer.unref();
    return lock;
  }

  async #write(): Promise<void> {
    const c = this.repo.client;
    this.#id = await this.repo.writeObject(
      ObjectKind.lock,
      Names.lock,
      encodeLock({ host: c.host, user: c.user, pid: this.options.pid ?? process.pid, time: c.now().toISOString(), exclusive: this.options.exclusive, purpose: this.options.purpose }),
    );
  }

  async #remove(): Promise<void> {
    if (this.#id !== undefined) await this.repo.store.delete(Names.lock(this.#id));
    this.#id = undefined;
  }

  async #conflict(): Promise<LockInfo | undefined> {
    const { locks } = await listLocks(this.repo);
    const now = this.repo.client.now();
    for (const other of locks) {
      if (other.id === this.#id) continue;
      if (isStale(other, now, this.repo.client.host, this.options.staleMs, this.options.isAlive)) {
        this.options.onStale?.(other);
        if (other.host === this.repo.client.host) await this.repo.store.delete(Names.lock(other.id));
        continue;
      }
      if (this.options.exclusive || other.exclusive) return other;
    }
    return undefined;
  }

  async #refresh(): Promise<void> {
    const old = this.#id;
    await this.#write();
    if (old !== undefined) await this.repo.store.delete(Names.lock(old));
  }

  async release(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#refreshing;
    await this.#remove();
  }
}

/** Removes stale locks (or every lock); returns the ones removed. */
export async function removeLocks(repo: Repository, all: boolean, isAlive = processIsAlive): Promise<LockInfo[]> {
  const { locks, unreadable } = await listLocks(repo);
  const removed: LockInfo[] = [];
  for (const lock of locks) {
    if (all || isStale(lock, repo.client.now(), repo.client.host, STALE_MS, isAlive)) {
      await repo.store.delete(Names.lock(lock.id));
      removed.push(lock);
    }
  }
  if (all) for (const name of unreadable) await repo.store.delete(name);
  return removed;
}
