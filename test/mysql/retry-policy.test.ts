/** The loader's retry policy on its own: which errors are retried, how often, and what runs in between. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoff, lockErrorKind, type RetryEvent, withLockRetry } from '../../src/sink/mysql/retry.js';

const deadlock = (): Error => Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 });
const quick = { attempts: 4, delayMs: () => 1 };

test('deadlocks and lock wait timeouts are found through wrapping errors; others are not transient', () => {
  assert.equal(lockErrorKind(new Error('outer', { cause: new Error('mid', { cause: deadlock() }) })), 'deadlock');
  assert.equal(lockErrorKind(Object.assign(new Error('x'), { errno: 1205 })), 'lock wait timeout');
  assert.equal(lockErrorKind(Object.assign(new Error('x'), { code: 'ER_LOCK_WAIT_TIMEOUT' })), 'lock wait timeout');
  assert.equal(lockErrorKind(Object.assign(new Error('dup'), { code: 'ER_DUP_ENTRY', errno: 1062 })), undefined);
  assert.equal(lockErrorKind('not an error'), undefined);
});

test('a unit that deadlocks twice is undone twice and succeeds on its third attempt', async () => {
  const log: string[] = [];
  const events: RetryEvent[] = [];
  const result = await withLockRetry(
    quick,
    async (n) => {
      log.push(`attempt ${n}`);
      if (n < 3) throw deadlock();
      return 'done';
    },
    { undo: async () => log.push('undo'), onRetry: (e) => events.push(e) },
  );
  assert.equal(result, 'done');
  assert.deepEqual(log, ['attempt 1', 'undo', 'attempt 2', 'undo', 'attempt 3']);
  assert.deepEqual(
    events.map((e) => [e.kind, e.failed, e.attempts]),
    [
      ['deadlock', 1, 4],
      ['deadlock', 2, 4],
    ],
  );
});

test('the attempts are bounded, and the last failure is undone too', async () => {
  let attempts = 0;
  let undos = 0;
  await assert.rejects(
    withLockRetry(
      quick,
      async () => {
        attempts += 1;
        throw deadlock();
      },
      { undo: async () => void (undos += 1), exhausted: (err, kind, n) => new Error(`${kind} x${n}`, { cause: err }) },
    ),
    /^Error: deadlock x4$/,
  );
  assert.equal(attempts, 4);
  assert.equal(undos, 4);
});

test('other errors, and lock errors once the job is stopping, are not retried', async () => {
  let attempts = 0;
  const dup = Object.assign(new Error('Duplicate entry'), { code: 'ER_DUP_ENTRY' });
  await assert.rejects(
    withLockRetry(quick, async () => {
      attempts += 1;
      throw dup;
    }),
    (err) => err === dup,
  );
  assert.equal(attempts, 1);
  await assert.rejects(
    withLockRetry(
      quick,
      async () => {
        attempts += 1;
        throw deadlock();
      },
      { stopped: () => true },
    ),
    /Deadlock/,
  );
  assert.equal(attempts, 2);
});

test('backoff grows with each failed attempt and stays within its jitter', () => {
  const low = backoff(5, 100, () => 0);
  const high = backoff(5, 100, () => 0.999);
  assert.deepEqual([1, 2, 3, 4].map((n) => low.delayMs(n)), [100, 200, 400, 800]);
  assert.deepEqual([1, 2, 3, 4].map((n) => high.delayMs(n)), [200, 300, 500, 900]);
  assert.equal(low.attempts, 5);
});
