import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerChannel } from '../../src/threads/worker-channel.js';

const THREAD = new URL('./answer-worker.js', import.meta.url);

function open(failures: Error[] = []): WorkerChannel {
  const channel: WorkerChannel = new WorkerChannel(THREAD, {
    name: 'test answer',
    onMessage: (message) => {
      const m = message as { id: number; echo: string };
      channel.resolve(m.id, m.echo);
    },
    onFailure: (err) => failures.push(err),
  });
  return channel;
}

/** The promise's outcome, or 'hung' when it has not settled within 5 s. */
async function outcome(p: Promise<unknown>): Promise<string> {
  return Promise.race([
    p.then((v) => `resolved: ${String(v)}`, (err: Error) => `rejected: ${err.message}`),
    new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 5000).unref()),
  ]);
}

test('a reply settles its own request, in any order', async () => {
  const channel = open();
  const a = channel.call<string>((id) => ({ id, echo: 'a' }));
  const b = channel.call<string>((id) => ({ id, echo: 'b' }));
  assert.equal(channel.waiting, 2);
  assert.deepEqual(await Promise.all([b, a]), ['b', 'a']);
  assert.equal(channel.waiting, 0);
  await channel.terminate();
});

test('a thread terminated mid-request rejects the waiting requests with a clear error', async () => {
  const failures: Error[] = [];
  const channel = open(failures);
  const stalled = [channel.call((id) => ({ id, stall: true })), channel.call((id) => ({ id, stall: true }))];
  const outcomes = Promise.all(stalled.map(outcome));
  await channel.terminate();
  for (const o of await outcomes) assert.match(o, /^rejected: the test answer thread exited \(status \d+\) with 2 requests waiting$/);
  assert.equal(failures.length, 1, 'onFailure is called once');
  assert.match(await outcome(channel.call((id) => ({ id, echo: 'late' }))), /^rejected: .*exited/, 'later requests are refused');
});

test('a thread that exits by itself mid-request rejects the request', async () => {
  const channel = open();
  const stalled = outcome(channel.call((id) => ({ id, stall: true })));
  channel.post({ exit: 3 });
  assert.equal(await stalled, 'rejected: the test answer thread exited (status 3) with 1 request waiting');
});

test('a thread that throws rejects the waiting request with its error', async () => {
  const channel = open();
  const stalled = outcome(channel.call((id) => ({ id, stall: true })));
  channel.post({ crash: 'boom in the thread' });
  assert.equal(await stalled, 'rejected: boom in the thread');
  assert.throws(() => channel.post({ id: 9, echo: 'x' }), /boom in the thread/);
});

test('terminate with a reason rejects with that reason', async () => {
  const channel = open();
  const stalled = outcome(channel.call((id) => ({ id, stall: true })));
  await channel.terminate(new Error('the pool was closed'));
  assert.equal(await stalled, 'rejected: the pool was closed');
});
