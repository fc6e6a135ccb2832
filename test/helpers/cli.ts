/** Runs the built `sluice` binary (and shell pipelines around it) as a user would. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Absolute path of the built CLI entry point. */
export const SLUICE_JS = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** A shell word that runs the built CLI, for pipelines: `${SLUICE} backup ... | mbstream -x`. */
export const SLUICE = `node ${SLUICE_JS}`;

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  input?: string | Uint8Array;
  /** A file whose contents become stdin. */
  inputFile?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

export function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 120_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // the child may exit before reading all input
    child.on('close', (status, signal) =>
      resolve({ status, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
    if (opts.inputFile !== undefined) {
      void import('node:fs').then(({ createReadStream }) => createReadStream(opts.inputFile as string).pipe(child.stdin));
    } else {
      child.stdin.end(opts.input ?? '');
    }
  });
}

export function runSluice(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [SLUICE_JS, ...args], opts);
}

/** Runs a bash pipeline with `set -o pipefail`; `$SLUICE` in the script runs the built CLI. */
export function sh(script: string, opts: RunOptions = {}): Promise<RunResult> {
  return run('bash', ['-o', 'pipefail', '-c', script], { ...opts, env: { SLUICE, ...opts.env } });
}

/** Throws with the command's stderr when it did not exit 0. */
export function ok(result: RunResult, what = 'command'): RunResult {
  if (result.status !== 0) {
    throw new Error(`${what} exited ${result.status ?? result.signal}: ${result.stderr}`);
  }
  return result;
}

/**
 * Prefix for a shell command that runs mariabackup: one at a time across the test files that run at
 * once. The server runs one BACKUP STAGE at a time; two backups of the shared server together, one of
 * them under a write load, have waited past their time limit.
 */
export const ONE_MARIABACKUP = 'flock -w 300 /tmp/sluice-tests-mariabackup.lock';
