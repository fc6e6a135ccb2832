/**
 * A hot physical backup of a running PostgreSQL server as one tar stream: runs
 * `pg_basebackup -D - -Ft -X fetch` and passes its stdout on unchanged (the tar GNU tar and postgres'
 * own tools read), while node-tar's parser checks the stream as it goes: a well-formed tar that holds
 * `backup_label` and the WAL the copy needs (`-X fetch` puts it in `pg_wal/` inside the same tar, so
 * one stream is the whole backup; `-X stream` would need a second tar, which `-D -` cannot write).
 * The stream ends only after pg_basebackup has exited 0; otherwise the iteration throws, quoting its
 * last lines of stderr.
 */
import { spawn } from 'node:child_process';
import { Parser, type ReadEntry } from 'tar';
import { FormatError, SluiceError } from '../errors.js';

export interface PgConnection {
  host?: string;
  port?: number;
  user?: string;
}

export interface PgBasebackupOptions {
  connection: PgConnection;
  extraArgs?: readonly string[];
  program?: string;
  /** Environment for pg_basebackup (PGPASSWORD, PGPASSFILE, ...). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onStderr?: (chunk: Uint8Array) => void;
}

export class PgBasebackupError extends SluiceError {}

const TAIL_BYTES = 8 << 10;

export function pgBasebackupArguments(options: PgBasebackupOptions): string[] {
  const c = options.connection;
  return [
    '-D', '-', '-F', 'tar', '-X', 'fetch', '--no-password',
    // the default spread checkpoint makes the backup wait up to minutes before the first byte
    ...((options.extraArgs ?? []).some((a) => a.startsWith('--checkpoint') || a.startsWith('-c')) ? [] : ['--checkpoint=fast']),
    ...(c.host === undefined ? [] : ['-h', c.host]),
    ...(c.port === undefined ? [] : ['-p', String(c.port)]),
    ...(c.user === undefined ? [] : ['-U', c.user]),
    ...(options.extraArgs ?? []),
  ];
}

export interface PgBackupSummary {
  entries: number;
  walFiles: number;
}

/** The tar bytes; `summary` is filled in as the stream is checked. */
export function pgBasebackupStream(options: PgBasebackupOptions, summary: PgBackupSummary = { entries: 0, walFiles: 0 }): AsyncGenerator<Uint8Array> {
  return stream(options, summary);
}

async function* stream(options: PgBasebackupOptions, summary: PgBackupSummary): AsyncGenerator<Uint8Array> {
  const child = spawn(options.program ?? 'pg_basebackup', pgBasebackupArguments(options), {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  let tail = '';
  child.stderr.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    options.onStderr?.(chunk);
  });
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  options.signal?.addEventListener('abort', kill, { once: true });

  let parseError: Error | undefined;
  let sawLabel = false;
  let ended = false;
  const parser = new Parser({ strict: true });
  parser.on('entry', (entry: ReadEntry) => {
    summary.entries += 1;
    if (entry.path === 'backup_label') sawLabel = true;
    if (/^pg_wal\/[0-9A-F]{24}$/.test(entry.path)) summary.walFiles += 1;
    entry.resume();
  });
  parser.on('error', (err: Error) => {
    parseError ??= err;
  });
  parser.on('warn', (_code: string, message: string | Error) => {
    parseError ??= new Error(typeof message === 'string' ? message : message.message);
  });
  parser.on('end', () => {
    ended = true;
  });

  const failure = async (cause?: unknown): Promise<PgBasebackupError> => {
    const { code, signal } = await closed;
    const how = spawnError !== undefined ? `could not run: ${spawnError.message}` : signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
    const lines = tail.trimEnd().split('\n').slice(-10).join('\n');
    return new PgBasebackupError('E_PG_BASEBACKUP', `pg_basebackup ${how}${lines === '' ? '' : `; its last lines:\n${lines}`}`, {}, cause === undefined ? {} : { cause });
  };

  let finished = false;
  let offset = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      parser.write(chunk);
      if (parseError !== undefined) break;
      offset += chunk.length;
      yield chunk;
    }
    if (parseError !== undefined) {
      kill();
      throw new FormatError('E_PG_TAR', `pg_basebackup's output is not a valid tar: ${parseError.message}`, { path: 'pg_basebackup output', offset });
    }
    await new Promise<void>((resolve) => parser.end(resolve));
    const { code, signal } = await closed;
    if (code !== 0 || signal !== null || spawnError !== undefined) throw await failure();
    if (parseError !== undefined || !ended) {
      throw new FormatError('E_PG_TAR', `pg_basebackup's output is not a valid tar: ${(parseError as Error | undefined)?.message ?? 'it ends early'}`, { path: 'pg_basebackup output', offset });
    }
    if (!sawLabel) throw new FormatError('E_PG_TAR', 'pg_basebackup output holds no backup_label', { path: 'pg_basebackup output' });
    finished = true;
  } finally {
    if (!finished) kill();
    options.signal?.removeEventListener('abort', kill);
    await closed;
  }
}
