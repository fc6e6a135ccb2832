/**
 * Runs an engine's own tool (mariabackup --prepare / --copy-back, ...) to completion: stdin from
 * /dev/null, stdout and stderr appended to a log file, the last lines kept for the error message.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { SluiceError } from '../errors.js';

export interface ToolRun {
  program: string;
  args: readonly string[];
  logFile: string;
  signal?: AbortSignal;
}

export class ToolError extends SluiceError {}

const TAIL_BYTES = 16 << 10;
const TAIL_LINES = 12;

/** Resolves when the tool exits 0; otherwise rejects with a ToolError quoting its last lines. */
export async function runTool(run: ToolRun): Promise<void> {
  const log = openSync(run.logFile, 'a', 0o600);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    try {
      writeSync(log, chunk);
    } catch {
      // the tail still reaches the error message
    }
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  const outcome = await new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    const child = spawn(run.program, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let error: Error | undefined;
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => {
      error = err;
    });
    const onAbort = (): void => {
      child.kill('SIGTERM');
    };
    run.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('close', (code, signal) => {
      run.signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal, ...(error === undefined ? {} : { error }) });
    });
  });
  closeSync(log);
  if (outcome.code === 0 && outcome.error === undefined) return;
  const how =
    outcome.error !== undefined
      ? `could not run: ${outcome.error.message}`
      : outcome.signal !== null
        ? `was killed by ${outcome.signal}`
        : `exited with status ${outcome.code}`;
  const lines = tail.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  throw new ToolError('E_TOOL', `${run.program} ${run.args.slice(0, 2).join(' ')} ${how} (log: ${run.logFile})${lines === '' ? '' : `; its last lines:\n${lines}`}`);
}
