import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnsafePathError } from '../../src/errors.js';
import { parentOf, toSafePath } from '../../src/entry.js';

test('toSafePath accepts ordinary relative paths', () => {
  for (const p of ['a', 'db/t1.ibd', 'x/.../y', 'a..', '.hidden', 'ünï/cødé 名前.txt']) assert.equal(toSafePath(p), p);
  assert.equal(toSafePath(new TextEncoder().encode('dir/f')), 'dir/f');
});

test('toSafePath refuses every escaping or ambiguous form', () => {
  const bad = ['', '/abs', '../x', 'a/../b', 'a/..', '..', '.', './x', 'a/./b', 'a//b', 'a/', 'nul\0x', 'C:x', 'a\\b'];
  for (const p of bad) assert.throws(() => toSafePath(p), UnsafePathError, JSON.stringify(p));
  assert.throws(() => toSafePath('x'.repeat(512), 511), /longer than 511 bytes/);
  assert.throws(() => toSafePath(Array(300).fill('d').join('/')), /deeper/);
});

test('parentOf', () => {
  assert.equal(parentOf(toSafePath('a/b/c')), 'a/b');
  assert.equal(parentOf(toSafePath('a')), undefined);
});
