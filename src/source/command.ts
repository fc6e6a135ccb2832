/**
 * A command's stdout as one named entry. The command runs with stdin from /dev/null; its stderr is passed
 * on (to `onStderr`) and its last bytes kept, so the outcome can be recorded with the stream: exit
 * status, signal and stderr tail. The entry's content ends when the command closes its stdout; `result`
 * settles once the command has exited. A consumer that stops early calls `kill()`.
 */
import { spawn } from 'node:child_process';
import type { FileEntry, SafePath } from '../entry.js';
import { UsageError } from '../errors.js';
import { streamEntry } from './stdin.js';

export interface CommandResult {
  command: string[];
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
}

export interface CommandSourceOptions {
  mtimeMs: number;
  mode?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Bytes of stderr kept for the record (default 4 KiB). */
  stderrTailBytes?: number;
  onStderr?: (chunk: Uint8Array) => void;
}

export interface CommandSource {
  entry: FileEntry;
  result: Promise<CommandResult>;
  kill(): void;
}

class TailBuffer {
  #parts: Buffer[] = [];
  #bytes = 0;
  constructor(readonly max: number) {}
  push(chunk: Uint8Array): void {
    this.#parts.push(Buffer.from(chunk));
    this.#bytes += chunk.length;
    while (this.#parts.length > 1 && this.#bytes - (this.#parts[0] as Buffer).length >= this.max) {
      this.#bytes -= (this.#parts.shift() as Buffer).length;
    }
  }
  text(): string {
    const all = Buffer.concat(this.#parts);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}

export function commandEntry(path: SafePath, argv: readonly string[], options: CommandSourceOptions): CommandSource {
  const [program, ...args] = argv;
  if (program === undefined || program === '') throw new UsageError(`no command given for stream ${JSON.stringify(path)}`);
  const child = spawn(program, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const tail = new TailBuffer(options.stderrTailBytes ?? 4096);
  child.stderr.on('data', (chunk: Buffer) => {
    tail.push(chunk);
    options.onStderr?.(chunk);
  });
  let spawnError: Error | undefined;
  const result = new Promise<CommandResult>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      tail.push(Buffer.from(`\n${err.message}\n`));
    });
    child.on('close', (code, signal) => {
      resolve({
        command: [...argv],
        exitCode: spawnError !== undefined && code === null && signal === null ? 127 : code,
        signal,
        stderrTail: tail.text(),
      });
    });
  });
  return {
    entry: streamEntry(path, child.stdout as AsyncIterable<Uint8Array>, { mtimeMs: options.mtimeMs, mode: options.mode ?? 0o600 }),
    result,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
