/**
 * A hot physical backup of a running MariaDB server, as entries: runs `mariabackup --backup
 * --stream=xbstream`, reads its stdout with the xbstream reader (every CRC checked) and yields each member
 * file as an entry whose content streams (see `XbstreamDemux`).
 *
 * The password never appears on a command line: it goes to mariabackup in a defaults file (mode 0600) in
 * the temporary directory. mariabackup's stderr goes to `logFile`; its last lines are kept for the error
 * message. The entries end only after mariabackup has exited 0: if it fails or is killed, the iteration
 * throws a `MariabackupError`, so no consumer can take a partial stream for a finished backup.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { BufferPool } from '../bytes/buffer-pool.js';
import { CountedBlocks } from '../bytes/counted-blocks.js';
import { readXbstream } from '../container/xbstream/reader.js';
import type { FileEntry, SafePath } from '../entry.js';
import { SluiceError } from '../errors.js';
import { DEMUX_BLOCK_BYTES, type DemuxBlocks, demuxBlocksKept, XbstreamDemux, type XbstreamEdit } from './xbstream-demux.js';

export interface MariadbConnection {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  socket?: string;
}

export interface MariabackupOptions {
  connection: MariadbConnection;
  /** mariabackup's copy threads (its --parallel); their files interleave in the stream. */
  parallel?: number;
  /** More arguments for mariabackup, after sluice's own (`--databases=...`, `--incremental-lsn=...`). */
  extraArgs?: readonly string[];
  /** Parent of the temporary directory (target dir, defaults file, spool files). */
  temporaryParent: string;
  /** Where mariabackup's stderr goes. */
  logFile: string;
  /** The program to run (default `mariabackup`). */
  program?: string;
  /** Bytes held in memory for files not being read (see XbstreamDemux). */
  memoryBytes?: number;
  mtimeMs: number;
  signal?: AbortSignal;
  /** Take remove/rename chunks (tables dropped or renamed during the backup) instead of failing. */
  onEdit?: (edit: XbstreamEdit) => void;
  /** Files yielded only once complete (see `DemuxOptions.deferred`). */
  deferred?: (path: SafePath) => boolean;
  /**
   * The blocks every byte of the entries' content is in, which the consumer gives back once it has
   * copied or written a piece (see `DemuxOptions.blocks`; default: a pool of its own, left to the GC).
   */
  blocks?: DemuxBlocks;
}

export interface MariabackupOutcome {
  exitCode: number | null;
  signal: string | null;
  /** The last lines mariabackup wrote to stderr. */
  stderrTail: string;
}

export class MariabackupError extends SluiceError {}

const TAIL_LINES = 12;
const TAIL_BYTES = 16 << 10;
/** Grace between SIGTERM and SIGKILL when a backup is abandoned. */
const KILL_AFTER_MS = 5000;
/** Errors that mean sluice refused a well-formed stream, as opposed to a stream cut short by a failing mariabackup. */
const REFUSALS = new Set(['E_XBSTREAM_EDIT', 'E_XBSTREAM_ORDER', 'E_META_SIZE']);

/**
 * Files mariabackup writes about the backup itself, which stay readable as they are (not compressed):
 * what `prepare`, incrementals and people look at first (xtrabackup 8 leaves them uncompressed too).
 */
export function isBackupMetaFile(path: string): boolean {
  return path === 'backup-my.cnf' || /^(xtrabackup|mariadb_backup)_[a-z_]+$/.test(path);
}

/** The defaults file mariabackup reads first (`--defaults-extra-file`): the password, kept off argv. */
function defaultsFile(connection: MariadbConnection): string {
  const quoted = (connection.password ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `[client]\npassword="${quoted}"\n`;
}

export function mariabackupArguments(options: MariabackupOptions, targetDir: string, defaults: string | undefined): string[] {
  const c = options.connection;
  return [
    ...(defaults === undefined ? [] : [`--defaults-extra-file=${defaults}`]),
    '--backup',
    '--stream=xbstream',
    `--target-dir=${targetDir}`,
    // long forms only: mariabackup's -h is --datadir, not the host
    ...(c.host === undefined ? [] : [`--host=${c.host}`]),
    ...(c.port === undefined ? [] : [`--port=${c.port}`]),
    ...(c.user === undefined ? [] : [`--user=${c.user}`]),
    ...(c.socket === undefined ? [] : [`--socket=${c.socket}`]),
    `--parallel=${options.parallel ?? 1}`,
    ...(options.extraArgs ?? []),
  ];
}

export interface MariabackupSource {
  /** Member files in stream order; throws at the end if mariabackup did not exit 0. */
  entries: AsyncIterable<FileEntry>;
  /** Settles when mariabackup has exited (never rejects). */
  outcome: Promise<MariabackupOutcome>;
  /** What the demultiplexer had to hold back. */
  held(): { peakMemoryBytes: number; spooledBytes: number };
}

export function mariabackupSource(options: MariabackupOptions): MariabackupSource {
  const temporary = mkdtempSync(join(options.temporaryParent, 'sluice-mariabackup-'));
  const cleanup = (): void => rmSync(temporary, { recursive: true, force: true });
  let child: ReturnType<typeof spawn>;
  let log: number;
  let stdout: number | undefined;
  try {
    const targetDir = join(temporary, 'target');
    const defaults = options.connection.password === undefined ? undefined : join(temporary, 'client.cnf');
    if (defaults !== undefined) writeFileSync(defaults, defaultsFile(options.connection), { mode: 0o600, flag: 'wx' });
    log = openSync(options.logFile, 'a', 0o600);
    const argv = mariabackupArguments(options, targetDir, defaults);
    // mariabackup writes into a FIFO that is read into reused blocks (readIntoBlocks), not a pipe read by
    // node's stream, which takes a fresh 64 KiB buffer for every read: 1.2 GB of them were 60-70 MiB of
    // garbage at any time (docs/architecture.md). The ends open without waiting for each other: the
    // non-blocking reading end first (the one read), then the writing end, write-only, so that mariabackup
    // is no reader of its own stdout and gets EPIPE once sluice closes it.
    const fifo = join(temporary, 'stdout');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    stdout = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writing = openSync(fifo, constants.O_WRONLY);
    try {
      child = spawn(options.program ?? 'mariabackup', argv, { stdio: ['ignore', writing, 'pipe'] });
    } finally {
      closeSync(writing);
    }
  } catch (err) {
    if (stdout !== undefined) closeSync(stdout);
    cleanup();
    throw new MariabackupError('E_MARIABACKUP_START', `cannot start mariabackup: ${(err as Error).message}`, {}, { cause: err });
  }
  let tail = '';
  const logFd = log;
  child.stderr?.on('data', (chunk: Buffer) => {
    try {
      writeSync(logFd, chunk);
    } catch {
      // a full disk must not hide mariabackup's own outcome; the tail still has the last lines
    }
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  });
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  const outcome = new Promise<MariabackupOutcome>((resolve) => {
    child.on('close', (code, signal) => {
      closeSync(logFd);
      const lines = tail.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
      resolve({
        exitCode: spawnError !== undefined && code === null && signal === null ? 127 : code,
        signal,
        stderrTail: spawnError === undefined ? lines : `${lines}\n${spawnError.message}`.trim(),
      });
    });
  });
  // Stopping must not wait on mariabackup: it may be blocked writing to a stdout nobody reads any more,
  // holding the server's backup lock meanwhile (it does not act on SIGTERM while blocked). Its stdout is
  // closed, and it is killed outright if it has not ended a few seconds later.
  let killTimer: NodeJS.Timeout | undefined;
  // Destroying the FIFO's socket closes it: mariabackup's next write fails, as it did on the destroyed pipe.
  const input = readIntoBlocks(stdout as number);
  const stopInput = (): void => input.stop();
  const onAbort = (): void => {
    stopInput();
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer ??= setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, KILL_AFTER_MS);
  };
  void outcome.then(() => clearTimeout(killTimer));
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const demux = new XbstreamDemux(readXbstream(input.chunks, { label: 'mariabackup output' }), {
    spoolDirectory: temporary,
    mtimeMs: options.mtimeMs,
    ...(options.memoryBytes === undefined ? {} : { memoryBytes: options.memoryBytes }),
    ...(options.onEdit === undefined ? {} : { onEdit: options.onEdit }),
    ...(options.deferred === undefined ? {} : { deferred: options.deferred }),
    blocks: options.blocks ?? new BufferPool(DEMUX_BLOCK_BYTES, demuxBlocksKept(options.memoryBytes)),
  });

  const failure = (result: MariabackupOutcome, cause?: unknown): MariabackupError => {
    const how = result.signal !== null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
    return new MariabackupError(
      'E_MARIABACKUP',
      `mariabackup ${how} (log: ${options.logFile}); its last lines:\n${result.stderrTail}`,
      {},
      cause === undefined ? {} : { cause },
    );
  };

  // a stream cut short usually means mariabackup failed: its own message says why
  const explain = async (err: unknown): Promise<unknown> => {
    onAbort();
    const result = await outcome;
    // a stream sluice refused (not one cut short) is the reason, whatever stopping did to mariabackup
    if (err instanceof SluiceError && REFUSALS.has(err.code)) return err;
    return result.exitCode !== 0 ? failure(result, err) : err;
  };
  async function* explained(content: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    try {
      yield* content;
    } catch (err) {
      throw await explain(err);
    }
  }

  async function* entries(): AsyncGenerator<FileEntry> {
    let finished = false;
    try {
      try {
        for await (const entry of demux.entries()) yield { ...entry, content: explained(entry.content) };
      } catch (err) {
        throw await explain(err);
      }
      const result = await outcome;
      if (result.exitCode !== 0 || result.signal !== null) throw failure(result);
      finished = true;
    } finally {
      if (!finished) onAbort();
      options.signal?.removeEventListener('abort', onAbort);
      await outcome;
      stopInput();
      cleanup();
    }
  }

  return { entries: entries(), outcome, held: () => demux.held };
}

/** Bytes queued from the FIFO before reading it pauses (mariabackup then waits on its write). */
const QUEUED_BYTES = 4 << 20;
/** A read into less than this much free space of a block starts a new block. */
const MIN_READ_BYTES = 64 << 10;

/**
 * Reads a non-blocking FIFO through libuv's poller straight into reused blocks (`onread`: no buffer of
 * node's own per read, no thread-pool round trip per read as `fs.read` takes, which made snapshot
 * --mariadb wait on the repository's own file writes). Each chunk is valid until the next is asked for:
 * the demultiplexer copies what it keeps.
 */
function readIntoBlocks(fd: number): { chunks: AsyncGenerator<Uint8Array>; stop(): void } {
  const blocks = new CountedBlocks(DEMUX_BLOCK_BYTES, 8);
  let current = blocks.take();
  let fill = 0;
  const queue: Uint8Array[] = [];
  let queued = 0;
  let paused = false;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const socket = new Socket({
    fd,
    readable: true,
    writable: false,
    onread: {
      // called for the first read, and after each callback for the next one
      buffer: () => {
        if (DEMUX_BLOCK_BYTES - fill < MIN_READ_BYTES) {
          blocks.release(current);
          current = blocks.take();
          fill = 0;
        }
        return current.subarray(fill);
      },
      callback: (n: number, buf: Uint8Array) => {
        const view = buf.subarray(0, n);
        blocks.retain(view);
        if (view.buffer === current.buffer) fill = view.byteOffset + n;
        queue.push(view);
        queued += n;
        notify();
        paused = queued >= QUEUED_BYTES;
        return !paused;
      },
    },
  });
  socket.on('end', () => {
    ended = true;
    notify();
  });
  socket.on('error', (err) => {
    failure ??= err;
    notify();
  });
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let previous: Uint8Array | undefined;
    try {
      for (;;) {
        if (previous !== undefined) blocks.release(previous);
        previous = undefined;
        const next = queue.shift();
        if (next === undefined) {
          if (failure !== undefined) throw failure;
          if (ended) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        queued -= next.length;
        if (paused && queued < QUEUED_BYTES / 2) {
          paused = false;
          socket.resume();
        }
        previous = next;
        yield next;
      }
    } finally {
      if (previous !== undefined) blocks.release(previous);
      socket.destroy();
    }
  }
  return {
    chunks: chunks(),
    stop: () => {
      socket.destroy();
      ended = true;
      notify();
    },
  };
}
