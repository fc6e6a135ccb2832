/**
 * What a command may touch of the process: its streams and environment. Commands receive this
 * instead of reaching for `process`, so tests can run them in-process and the rule
 * "nothing below src/cli/ touches the terminal" has one exception, here.
 */
import type { Readable, Writable } from 'node:stream';

export interface CliContext {
  stdin: Readable & { isTTY?: boolean };
  /** The file descriptor behind `stdin`, when it is the process's own (lets input read regular files directly). */
  stdinFd?: number;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Exit status a command asks for without throwing (for example 3: finished with skipped items). */
  exitCode: number;
  /** Fires on SIGINT/SIGTERM so long work can stop cleanly. */
  signal: AbortSignal;
}

export function processContext(signal: AbortSignal): CliContext {
  return {
    // process.stdin is created on first use, and creating it puts fd 0 in non-blocking mode:
    // only commands that read stdin should pay for that.
    get stdin() {
      return process.stdin;
    },
    stdinFd: 0,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    exitCode: 0,
    signal,
  };
}
