/**
 * Password prompts under a real pseudo-terminal (tmux): nothing typed is echoed, new passwords are asked twice,
 * Ctrl-C / Ctrl-D end cleanly with the terminal put back; without a terminal nothing prompts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type LineEnd, PasswordKeys } from '../../src/cli/password-prompt.js';
import { ok, runSluice, SLUICE_JS } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { TEST_KDF, TEST_PASSWORD, testRepo } from './helpers.js';
import { shellWord, startTerminal, type Terminal, tmuxMissing } from './tmux.js';

const PASSWORD = 'Tmux-Typed-Secret-4711';
const NOT_TMUX = tmuxMissing();

/** A shell command running sluice with no password in its environment, then reporting its exit and the tty state. */
function sluiceCommand(dir: string, args: readonly string[], stdoutFile?: string): string {
  const env = [
    'env -u SLUICE_PASSWORD -u SLUICE_PASSWORD_FILE -u SLUICE_NEW_PASSWORD_FILE -u SLUICE_REPO',
    `SLUICE_KDF=${TEST_KDF}`,
    `SLUICE_CACHE_DIR=${shellWord(join(dir, 'cache'))}`,
  ].join(' ');
  const sluice = [process.execPath, SLUICE_JS, ...args].map(shellWord).join(' ');
  const out = stdoutFile === undefined ? '' : ` >${shellWord(stdoutFile)}`;
  return (
    `saved=$(stty -g); ${env} ${sluice}${out}; echo "sluice-exit=$?"; ` +
    'if [ "$(stty -g)" = "$saved" ]; then echo terminal-restored; else echo terminal-changed; fi; exec sleep 600'
  );
}

/** Waits for the command to finish; returns its exit status and the final screen. */
async function finished(term: Terminal): Promise<{ status: number; screen: string }> {
  const screen = await term.waitFor(/terminal-(restored|changed)/);
  const status = /sluice-exit=(\d+)/.exec(screen)?.[1];
  assert.ok(status !== undefined, screen);
  assert.match(screen, /terminal-restored/, 'the terminal settings after sluice differ from before');
  return { status: Number(status), screen };
}

async function answer(term: Terminal, prompt: string, text: string): Promise<void> {
  await term.waitFor(prompt);
  await term.type(text);
  await term.press('Enter');
}

function opens(dir: string, repo: string, password: string) {
  return runSluice(['snapshots', '--repo', repo, '--json'], {
    env: { SLUICE_PASSWORD: password, SLUICE_PASSWORD_FILE: undefined, SLUICE_CACHE_DIR: join(dir, 'cache') },
  });
}

describe('password prompts on a terminal', { skip: NOT_TMUX }, () => {
  test('init asks twice, echoes nothing, prompts on stderr, and the repository opens with the typed password', async (t) => {
    const dir = await tempDir(t, 'sluice-prompt-');
    const repo = join(dir, 'repo');
    const stdout = join(dir, 'stdout');
    const term = await startTerminal(t, sluiceCommand(dir, ['init', '--repo', repo], stdout));
    await answer(term, 'enter password for the new repository:', PASSWORD);
    await answer(term, 'enter password again:', PASSWORD);
    const { status, screen } = await finished(term);
    assert.equal(status, 0, screen);
    assert.match(screen, /created repository [0-9a-f]+ at /);
    assert.ok(!screen.includes(PASSWORD) && !screen.includes('Secret'), `the password is on the screen:\n${screen}`);
    assert.equal(await readFile(stdout, 'utf8'), '', 'nothing of the prompt goes to stdout');
    const open = ok(await opens(dir, repo, PASSWORD), 'opening with the typed password');
    assert.equal(open.stdout.toString().trim(), '[]');
    assert.equal((await opens(dir, repo, `${PASSWORD}x`)).status, 12, 'another password must not open it');
  });

  test('init refuses two different passwords and creates nothing', async (t) => {
    const dir = await tempDir(t, 'sluice-prompt-');
    const repo = join(dir, 'repo');
    const term = await startTerminal(t, sluiceCommand(dir, ['init', '--repo', repo]));
    await answer(term, 'enter password for the new repository:', PASSWORD);
    await answer(term, 'enter password again:', `${PASSWORD}-typo`);
    const { status, screen } = await finished(term);
    assert.equal(status, 2, screen);
    assert.match(screen, /sluice: error: the two passwords differ: no repository was created/);
    assert.ok(!screen.includes('Secret') && !screen.includes('typo'), `a password is on the screen:\n${screen}`);
    assert.equal(existsSync(repo), false, 'the repository directory was created');
  });

  test('init over an existing repository refuses before asking for a password', async (t) => {
    const r = await testRepo(t);
    const term = await startTerminal(t, sluiceCommand(r.dir, ['init', '--repo', r.repo]));
    const { status, screen } = await finished(term);
    assert.equal(status, 1, screen);
    assert.match(screen, /a repository already exists at local directory /);
    assert.doesNotMatch(screen, /password/);
  });

  test('opening a repository: Backspace and Ctrl-U edit the hidden line', async (t) => {
    const r = await testRepo(t);
    const term = await startTerminal(t, sluiceCommand(r.dir, ['snapshots', '--repo', r.repo, '--json']));
    await term.waitFor('repository password:');
    await term.type('not this one');
    await term.press('C-u');
    await term.type(`${TEST_PASSWORD}zz`);
    await term.press('BSpace', 'BSpace', 'Enter');
    const { status, screen } = await finished(term);
    assert.equal(status, 0, screen);
    assert.match(screen, /^\[\]$/m, 'the snapshot list (stdout) follows the prompt');
    assert.ok(!screen.includes('battery') && !screen.includes('not this'), `typed text is on the screen:\n${screen}`);
  });

  test('Ctrl-C at the prompt exits 130 with the terminal restored; Ctrl-D exits 2', async (t) => {
    const r = await testRepo(t);
    const interrupted = await startTerminal(t, sluiceCommand(r.dir, ['snapshots', '--repo', r.repo]));
    await interrupted.waitFor('repository password:');
    await interrupted.type('half typed');
    await interrupted.press('C-c');
    const first = await finished(interrupted);
    assert.equal(first.status, 130, first.screen);
    assert.match(first.screen, /sluice: error: interrupted/);
    assert.ok(!first.screen.includes('half'), first.screen);

    const dir = await tempDir(t, 'sluice-prompt-');
    const eof = await startTerminal(t, sluiceCommand(dir, ['init', '--repo', join(dir, 'repo')]));
    await eof.waitFor('enter password for the new repository:');
    await eof.press('C-d');
    const second = await finished(eof);
    assert.equal(second.status, 2, second.screen);
    assert.match(second.screen, /no password given/);
    assert.equal(existsSync(join(dir, 'repo')), false);
  });

  test('key add asks for the new password twice; key passwd refuses a mismatch and keeps the old one', async (t) => {
    const r = await testRepo(t);
    const add = await startTerminal(t, sluiceCommand(r.dir, ['key', 'add', '--repo', r.repo]));
    await answer(add, 'repository password:', TEST_PASSWORD);
    await answer(add, 'enter new password:', PASSWORD);
    await answer(add, 'enter new password again:', PASSWORD);
    const added = await finished(add);
    assert.equal(added.status, 0, added.screen);
    assert.match(added.screen, /added key [0-9a-f]{8}/);
    assert.ok(!added.screen.includes('Secret') && !added.screen.includes('battery'), added.screen);
    ok(await opens(r.dir, r.repo, PASSWORD), 'opening with the added password');

    const passwd = await startTerminal(t, sluiceCommand(r.dir, ['key', 'passwd', '--repo', r.repo]));
    await answer(passwd, 'repository password:', TEST_PASSWORD);
    await answer(passwd, 'enter new password:', 'first-new');
    await answer(passwd, 'enter new password again:', 'second-new');
    const refused = await finished(passwd);
    assert.equal(refused.status, 2, refused.screen);
    assert.match(refused.screen, /the two passwords differ: the password was not changed/);
    ok(await opens(r.dir, r.repo, TEST_PASSWORD), 'the old password still opens');
    assert.equal((await opens(r.dir, r.repo, 'first-new')).status, 12);
  });
});

test('without a terminal nothing prompts: no password is a usage error, stdout stays empty', async (t) => {
  const dir = await tempDir(t, 'sluice-prompt-');
  const env = { SLUICE_PASSWORD: undefined, SLUICE_PASSWORD_FILE: undefined, SLUICE_KDF: TEST_KDF };
  const init = await runSluice(['init', '--repo', join(dir, 'repo')], { env, input: `${PASSWORD}\n${PASSWORD}\n` });
  assert.equal(init.status, 2, init.stderr);
  assert.match(init.stderr, /no password: pass --password-file FILE or set SLUICE_PASSWORD_FILE/);
  assert.doesNotMatch(init.stderr, /enter password/);
  assert.equal(init.stdout.length, 0);
  assert.equal(existsSync(join(dir, 'repo')), false);
  ok(await runSluice(['init', '--repo', join(dir, 'repo')], { env: { ...env, SLUICE_PASSWORD: PASSWORD } }), 'init from SLUICE_PASSWORD');
});

describe('PasswordKeys: line editing over raw keystrokes', () => {
  const feedAll = (...chunks: string[]): LineEnd[] => {
    const keys = new PasswordKeys();
    return chunks.flatMap((c) => keys.feed(c));
  };

  test('Enter ends an answer; CR LF counts once; text typed ahead is the next answer', () => {
    assert.deepEqual(feedAll('one\r\ntw', 'o\r'), [
      { kind: 'line', text: 'one' },
      { kind: 'line', text: 'two' },
    ]);
    assert.deepEqual(feedAll('a\r', '\nb\n'), [
      { kind: 'line', text: 'a' },
      { kind: 'line', text: 'b' },
    ]);
    assert.deepEqual(feedAll('\r\r'), [
      { kind: 'line', text: '' },
      { kind: 'line', text: '' },
    ]);
  });

  test('Backspace deletes whole characters, Ctrl-U the line, Tab and non-ASCII are kept', () => {
    assert.deepEqual(feedAll('abc\x7f\x7fd\r'), [{ kind: 'line', text: 'ad' }]);
    assert.deepEqual(feedAll('pä😀\x7f\x08\r'), [{ kind: 'line', text: 'p' }]);
    assert.deepEqual(feedAll('x\x7f\x7f\x7fy\r'), [{ kind: 'line', text: 'y' }]);
    assert.deepEqual(feedAll('wrong\x15ri', 'ght\r'), [{ kind: 'line', text: 'right' }]);
    assert.deepEqual(feedAll('a\tb\r'), [{ kind: 'line', text: 'a\tb' }]);
  });

  test('arrow keys, function keys and other control characters are dropped', () => {
    assert.deepEqual(feedAll('a\x1b[D', 'b\x1b[1;5Cc\x1bOPd\x1bxe\x01\x02f\r'), [{ kind: 'line', text: 'abcdef' }]);
    assert.deepEqual(feedAll('a\x1b', '[', '3~b\r'), [{ kind: 'line', text: 'ab' }]);
  });

  test('Ctrl-C interrupts, Ctrl-D ends an empty line only, and nothing counts after either', () => {
    assert.deepEqual(feedAll('abc\x03def\r'), [{ kind: 'interrupt' }]);
    assert.deepEqual(feedAll('ok\r\x04more\r'), [{ kind: 'line', text: 'ok' }, { kind: 'eof' }]);
    assert.deepEqual(feedAll('ab\x04c\r'), [{ kind: 'line', text: 'abc' }]);
    const keys = new PasswordKeys();
    assert.deepEqual(keys.feed('cut sho'), []);
    assert.deepEqual(keys.end(), [{ kind: 'eof' }], 'an answer without Enter is not taken');
    assert.deepEqual(keys.end(), []);
  });
});
