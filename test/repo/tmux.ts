/** A real pseudo-terminal for tests: a private tmux server running one shell command, typed at and read back. */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContextLike } from '../helpers/tmp.js';

const exec = promisify(execFile);

/** Why terminal tests cannot run here, or undefined when tmux is available. */
export function tmuxMissing(): string | undefined {
  const probe = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `tmux not found (${probe.error.message}): install the Debian package tmux`;
  if (probe.status !== 0) return `tmux -V exited ${probe.status}: ${probe.stderr}`;
  return undefined;
}

/** Quotes one word for /bin/sh. */
export function shellWord(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

export interface Terminal {
  /** The visible screen, trailing blank lines dropped. */
  screen(): Promise<string>;
  /** Waits until the screen matches, and returns it; fails with the screen after `timeoutMs`. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Types text literally (no key names). */
  type(text: string): Promise<void>;
  /** Presses keys by tmux name: Enter, BSpace, C-c, C-d, C-u. */
  press(...keys: string[]): Promise<void>;
}

/**
 * Starts `command` (run by /bin/sh) in a new detached tmux session of 200x50 on a private socket; the server
 * is killed after the test. The command should end by sleeping so its output stays on screen.
 */
export async function startTerminal(t: TestContextLike, command: string): Promise<Terminal> {
  const socketDir = await mkdtemp(join(tmpdir(), 'sluice-tmux-'));
  const socket = join(socketDir, 'sock');
  const env = { ...process.env, TMUX: undefined, TERM: 'xterm' };
  const tmux = async (...args: string[]): Promise<string> => (await exec('tmux', ['-S', socket, ...args], { env, encoding: 'utf8' })).stdout;
  // One hook, in this order: hooks of other helpers (removing a directory) may run before or after it.
  t.after(async () => {
    await tmux('kill-server').catch(() => undefined);
    await rm(socketDir, { recursive: true, force: true });
  });
  await tmux('-f', '/dev/null', 'new-session', '-d', '-x', '200', '-y', '50', '--', '/bin/sh', '-c', command);
  const screen = async (): Promise<string> => (await tmux('capture-pane', '-p')).replace(/\s+$/, '');
  return {
    screen,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = await screen();
        if (typeof pattern === 'string' ? now.includes(pattern) : pattern.test(now)) return now;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pattern)}; the screen:\n${now}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async type(text) {
      await tmux('send-keys', '-l', text);
    },
    async press(...keys) {
      await tmux('send-keys', ...keys);
    },
  };
}
