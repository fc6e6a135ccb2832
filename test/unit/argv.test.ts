import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeOptionalValues } from '../../src/cli/argv.js';

const optional = { '--stream': ['xbstream', 'tar', 'mbstream'] } as const;

test('an optional value is taken only when it is one of the choices', () => {
  assert.deepEqual(normalizeOptionalValues(['--stream', '/data'], optional), ['--stream=xbstream', '/data']);
  assert.deepEqual(normalizeOptionalValues(['--stream', 'tar', '/data'], optional), ['--stream=tar', '/data']);
  assert.deepEqual(normalizeOptionalValues(['--stream=tar', '/data'], optional), ['--stream=tar', '/data']);
  assert.deepEqual(normalizeOptionalValues(['/data', '--stream'], optional), ['/data', '--stream=xbstream']);
  assert.deepEqual(normalizeOptionalValues(['--', '--stream', 'x'], optional), ['--', '--stream', 'x']);
});
