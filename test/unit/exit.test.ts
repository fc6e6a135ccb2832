/** How errors reach the user: a defect in sluice is reported as one, never as a bare TypeError. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { CliContext } from '../../src/cli/context.js';
import { exitStatusFor, redacted } from '../../src/cli/exit.js';
import { FormatError } from '../../src/errors.js';

function fakeContext(): { ctx: CliContext; stderr: () => string } {
  const err = new PassThrough();
  const parts: Buffer[] = [];
  err.on('data', (b: Buffer) => parts.push(b));
  const ctx = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: err, env: {}, exitCode: 0, signal: new AbortController().signal } as CliContext;
  return { ctx, stderr: () => Buffer.concat(parts).toString('utf8') };
}

test('an unexpected TypeError is reported as an internal error with what a bug report needs, exit 70', () => {
  const { ctx, stderr } = fakeContext();
  const status = exitStatusFor(ctx, new TypeError('Cannot perform %TypedArray%.prototype.set on a detached ArrayBuffer'), [
    'dump',
    '-p',
    'hunter2',
    '--password=hunter3',
    '-phunter4',
  ]);
  assert.equal(status, 70);
  const text = stderr();
  assert.match(text, /sluice: error: internal error: TypeError: Cannot perform/);
  assert.match(text, /This is a bug in sluice/);
  assert.match(text, /do not use it/);
  assert.match(text, /node v\d+/);
  assert.match(text, /command: sluice dump -p \*\*\* --password=\*\*\* -p\*\*\*/);
  assert.doesNotMatch(text, /hunter/, 'no password in the report');
  assert.match(text, /at /, 'the stack is included');
});

test('a located SluiceError is printed as it is, with its own exit status', () => {
  const { ctx, stderr } = fakeContext();
  const status = exitStatusFor(ctx, new FormatError('bad-magic', 'not an xbstream', { path: 'f', chunk: 2, offset: 10 }));
  assert.equal(status, 1);
  assert.doesNotMatch(stderr(), /internal error/);
  assert.match(stderr(), /not an xbstream/);
});

test('redacted() hides secret option values and quotes what a shell would need quoted', () => {
  assert.deepEqual(redacted(['xbstream', '-x', '--encrypt-key', 'k', 'a b']), ['xbstream', '-x', '--encrypt-key', '***', '"a b"']);
});
