/**
 * When the loader tries a unit of work again: a deadlock (ER_LOCK_DEADLOCK, 1213) or a lock wait
 * timeout (ER_LOCK_WAIT_TIMEOUT, 1205) is transient, every other error is final.
 *
 * The unit given to `withLockRetry` must be all-or-nothing on the server: one autocommit statement,
 * or one transaction that `undo` rolls back. InnoDB rolls a deadlock victim's whole transaction back,
 * but a lock wait timeout only the statement that waited (innodb_rollback_on_timeout is off by
 * default): the rest of the transaction stays open until `undo` ends it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export type LockErrorKind = 'deadlock' | 'lock wait timeout';

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  readonly attempts: number;
  /** How long to wait after failed attempt number `failed` (1-based). */
  delayMs(failed: number): number;
}

/** Growing waits with some jitter, so two loaders that deadlocked each other do not collide again. */
export function backoff(attempts: number, baseMs: number, random: () => number = Math.random): RetryPolicy {
  return { attempts, delayMs: (failed) => Math.round(baseMs * 2 ** (failed - 1) + baseMs * random()) };
}

/** Data transactions: 5 attempts, waiting about 0.1, 0.2, 0.4 and 0.8 s in between. */
export const DATA_LOCK_RETRY: RetryPolicy = backoff(5, 100);

/**
 * Schema statements: DDL on tables linked by foreign keys, run by parallel connections, meets
 * InnoDB's no-wait dictionary locks (an immediate lock wait timeout) often and briefly.
 */
export const SCHEMA_LOCK_RETRY: RetryPolicy = { attempts: 20, delayMs: (failed) => 50 * failed };

/** The transient lock error in `err` or its causes, if there is one. */
export function lockErrorKind(err: unknown): LockErrorKind | undefined {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, errno } = e as { code?: unknown; errno?: unknown };
    if (code === 'ER_LOCK_DEADLOCK' || errno === 1213) return 'deadlock';
    if (code === 'ER_LOCK_WAIT_TIMEOUT' || errno === 1205) return 'lock wait timeout';
  }
  return undefined;
}

export interface RetryEvent {
  kind: LockErrorKind;
  error: unknown;
  /** The attempt that failed (1-based). */
  failed: number;
  attempts: number;
  delayMs: number;
}

export interface RetryHooks {
  /** Ends what a failed attempt left open (ROLLBACK). Runs after every transient failure, the last one too. */
  undo?: () => Promise<unknown>;
  /** Told before each wait. */
  onRetry?: (event: RetryEvent) => void;
  /** The error to throw once the attempts are used up (default: the last one). */
  exhausted?: (error: unknown, kind: LockErrorKind, attempts: number) => unknown;
  /** True once the whole job is stopping: no more attempts. */
  stopped?: () => boolean;
}

/** Runs `attempt(1)`, and again with the next number after each transient lock error, up to the policy's limit. */
export async function withLockRetry<T>(policy: RetryPolicy, attempt: (n: number) => Promise<T>, hooks: RetryHooks = {}): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const kind = lockErrorKind(err);
      if (kind === undefined || hooks.stopped?.() === true) throw err;
      await hooks.undo?.();
      if (n >= policy.attempts) throw hooks.exhausted?.(err, kind, n) ?? err;
      const delayMs = policy.delayMs(n);
      hooks.onRetry?.({ kind, error: err, failed: n, attempts: policy.attempts, delayMs });
      await sleep(delayMs);
      if (hooks.stopped?.() === true) throw err;
    }
  }
}
