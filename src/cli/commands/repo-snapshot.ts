/**
 * `sluice snapshot [DIR...] [--stdin NAME] [--stdin-from-command NAME -- CMD ARGS...] [--command NAME=CMD]`:
 * one snapshot of any number of directories and named streams.
 */
import { lstat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BufferPool } from '../../bytes/buffer-pool.js';
import { type Entry, type SafePath, toSafePath } from '../../entry.js';
import { errorMessage, UsageError } from '../../errors.js';
import { Meter } from '../../filter/meter.js';
import { FdReader } from '../../repo/content/chunk-sources.js';
import { prestartPool, WriteSession } from '../../repo/content/write-session.js';
import type { ObjectStore } from '../../repo/storage/object-store.js';
import { S3Store } from '../../repo/storage/s3.js';
import { Archiver, type DirMeta } from '../../repo/snapshot/archiver.js';
import { globMatcher } from '../../repo/snapshot/glob.js';
import { listSnapshots, resolveSnapshot, shortId, type SnapshotRef } from '../../repo/snapshot/snapshots.js';
import { commandEntry, type CommandSource } from '../../source/command.js';
import { fileEntryFor, readDirectory } from '../../source/dir.js';
import { streamEntry } from '../../source/stdin.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { binaryStdin } from '../output.js';
import { info, warn } from '../log.js';
import { showProgress } from '../progress.js';
import { addRepoOptions, openRepository, printJson, type RepoOptions } from '../repo-options.js';
import { VERSION } from '../version.js';
import { formatBytes, parseCount, parseSize } from '../units.js';
import { parseCompression } from './repo-init.js';
import { addPhysicalSnapshotOptions, type PhysicalSnapshotFlags, runPhysicalSnapshot, wantsPhysicalSnapshot } from './snapshot-physical.js';

interface SnapshotOptions extends RepoOptions {
  stdin?: string;
  stdinFromCommand?: string;
  command: string[];
  tag: string[];
  host?: string;
  time?: string;
  parent?: string;
  force?: boolean;
  exclude: string[];
  packSize?: string;
  compression?: string;
  workers?: string;
  uploadConnections?: string;
  progress?: boolean;
  quiet?: boolean;
}

/**
 * File blocks of a directory backup: the chunker copies them into its slots, so larger blocks only add
 * memory (several are in flight and the pool keeps some): a 256 MiB tree peaked at 245 MiB RSS with
 * 10 MiB blocks, 185 MiB with 1 MiB ones, no slower.
 */
const REPO_READ_BYTES = 1024 * 1024;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

async function dirMeta(path: string): Promise<DirMeta> {
  const st = await lstat(path);
  return { mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, uid: st.uid, gid: st.gid };
}

/** The argv after the first `--` of this command line (for --stdin-from-command). */
function argvAfterDashes(command: Command): string[] | undefined {
  const raw = (command.parent as (Command & { rawArgs?: string[] }) | null)?.rawArgs ?? [];
  const at = raw.indexOf('--');
  return at < 0 ? undefined : raw.slice(at + 1);
}

export const snapshotCommand: CommandModule = {
  name: 'snapshot',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('snapshot')
      .summary('store directories and named streams as one snapshot in the repository')
      .description(
        'Store directories and named streams (stdin, or the output of commands) as one encrypted, deduplicated\n' +
          'snapshot. Data is written first, the snapshot object last: an interrupted run leaves no snapshot.\n' +
          'A stream from a command is committed only if the command exits 0.\n\n' +
          'Examples:\n' +
          '  mysqldump --all-databases | sluice snapshot --stdin db.sql --tag nightly\n' +
          '  sluice snapshot --stdin-from-command db.sql -- mysqldump --all-databases\n' +
          '  sluice snapshot /etc /var/www --stdin-from-command pg.sql -- pg_dumpall',
      )
      .argument('[paths...]', 'directories (or files) to store; after --, the command of --stdin-from-command')
      .option('--stdin <name>', 'store stdin as the stream NAME')
      .option('--stdin-from-command <name>', 'run the command given after -- and store its stdout as NAME (not committed unless it exits 0)')
      .option('--command <name=cmdline>', 'run CMDLINE with /bin/sh and store its stdout as NAME (repeatable)', collect, [])
      .option('--tag <tag>', 'tag the snapshot (repeatable, or comma-separated)', collect, [])
      .option('--host <name>', 'host name to record (default: this host)')
      .option('--time <iso>', 'time to record instead of now (e.g. 2024-05-01T02:00:00Z)')
      .option('--parent <id>', 'snapshot whose unchanged files are reused without reading (default: the latest with the same paths)')
      .option('--force', 'read every file, even those unchanged since the parent snapshot')
      .option('--exclude <pattern>', 'leave out paths matching the glob (repeatable; * ** ?)', collect, [])
      .option('--pack-size <size>', 'target pack size for this run (default: the repository\'s)')
      .option('--compression <mode>', 'auto, off, better, max, or a zstd level (default: the repository\'s)')
      .option('--workers <n>', 'compression/encryption worker threads (default: the number of CPUs, at most 4)')
      .option('--upload-connections <n>', 'packs uploaded at once (default: 4 to S3, 2 to a local directory); memory grows by one pack each')
      .option('--progress', 'show progress on stderr even when it is not a terminal')
      .option('--no-progress', 'never show progress')
      .option('-q, --quiet', 'print nothing but errors')
      .option('--json', 'print the summary as JSON on stdout');
    addPhysicalSnapshotOptions(command);
    addRepoOptions(command).action(async (paths: string[], options: SnapshotOptions & PhysicalSnapshotFlags) => {
      if (wantsPhysicalSnapshot(options)) return runPhysicalSnapshot(ctx, paths, argvAfterDashes(command), options);
      await runSnapshot(ctx, command, paths, options);
    });
  },
};

async function runSnapshot(ctx: CliContext, command: Command, operands: string[], options: SnapshotOptions): Promise<void> {
  const trailing = argvAfterDashes(command);
  let paths = operands;
  let streamCommand: string[] | undefined;
  if (options.stdinFromCommand !== undefined) {
    if (trailing === undefined || trailing.length === 0) throw new UsageError('--stdin-from-command NAME needs the command after --');
    streamCommand = trailing;
    paths = operands.slice(0, operands.length - trailing.length);
  }
  const tags = options.tag.flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '');
  const time = options.time === undefined ? new Date() : new Date(options.time);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--time: "${options.time}" is not a date`);

  type StreamSpec = { name: SafePath; kind: 'stdin' } | { name: SafePath; kind: 'command'; argv: string[] };
  const streams: StreamSpec[] = [];
  if (options.stdin !== undefined) streams.push({ name: toSafePath(options.stdin), kind: 'stdin' });
  if (options.stdinFromCommand !== undefined) streams.push({ name: toSafePath(options.stdinFromCommand), kind: 'command', argv: streamCommand as string[] });
  for (const spec of options.command) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--command "${spec}": expected NAME=COMMAND`);
    streams.push({ name: toSafePath(spec.slice(0, eq)), kind: 'command', argv: ['/bin/sh', '-c', spec.slice(eq + 1)] });
  }
  const dirs = paths.map((p) => resolve(p));
  if (dirs.length === 0 && streams.length === 0) throw new UsageError('nothing to store: give directories, --stdin NAME or --stdin-from-command NAME');
  const stdin = streams.some((s) => s.kind === 'stdin') ? binaryStdin(ctx, 'the stream for --stdin') : undefined;

  // The worker threads load their modules while the password is checked (scrypt runs off this thread).
  // Real stdin (a pipe or file) is read and cut by a thread of its own; another stream here is read in-process.
  const workers = prestartPool(options.workers === undefined ? undefined : parseCount(options.workers, '--workers', 1, 16));
  const stdinFd = (stdin as { fd?: unknown } | undefined)?.fd;
  const stdinReader = stdin !== undefined && stdinFd === 0 && ctx.stdin === process.stdin ? new FdReader(0) : undefined;
  let opened;
  try {
    opened = await openRepository(ctx, options, { exclusive: false, purpose: 'snapshot' }, options.host === undefined ? {} : { host: options.host });
  } catch (err) {
    await Promise.all([workers.close(), stdinReader?.close()]);
    throw err;
  }
  const { repo } = opened;
  const sources: CommandSource[] = [];
  let session: WriteSession | undefined;
  const meter = new Meter();
  const quiet = options.quiet === true || options.json === true;
  const progress = showProgress(ctx, meter, quiet ? false : options.progress, 'snapshot ');
  let timer: NodeJS.Timeout | undefined;
  try {
    await repo.loadIndex();
    const host = repo.client.host;
    let parent: SnapshotRef | undefined;
    if (dirs.length > 0 && options.force !== true) {
      const all = await listSnapshots(repo);
      if (options.parent !== undefined) parent = resolveSnapshot(all, options.parent);
      else {
        const key = JSON.stringify([...dirs].sort());
        parent = [...all].reverse().find((s) => s.snapshot.host === host && JSON.stringify([...s.snapshot.paths].sort()) === key);
      }
    }
    session = new WriteSession(repo, {
      pool: workers,
      signal: ctx.signal,
      ...(options.packSize === undefined ? {} : { packSize: parseSize(options.packSize, '--pack-size') }),
      ...(options.compression === undefined ? {} : { level: parseCompression(options.compression) }),
      uploads: uploadConnections(options.uploadConnections, repo.store),
    });
    const archiver = new Archiver(repo, session, {
      now: () => new Date(),
      onWarning: (m) => warn(ctx, m),
      ...(parent === undefined ? {} : { parent: { id: parent.id, snapshot: parent.snapshot } }),
    });
    timer = setInterval(() => {
      meter.bytes = archiver.progress.bytes;
      meter.files = archiver.progress.files;
    }, 200);
    timer.unref();

    for (const spec of streams) {
      if (spec.kind === 'stdin') {
        const content = stdinReader ?? (stdin as AsyncIterable<Uint8Array>);
        await archiver.addStream(spec.name, content, { mode: 0o600, mtimeMs: time.getTime() }, { kind: 'stdin' });
      } else {
        const source = commandEntry(spec.name, spec.argv, {
          mtimeMs: time.getTime(),
          env: ctx.env,
          onStderr: (chunk) => {
            if (!quiet) ctx.stderr.write(chunk);
          },
        });
        sources.push(source);
        await archiver.addStream(spec.name, source.entry.content, { mode: 0o600, mtimeMs: time.getTime() }, { kind: 'command', result: source.result });
      }
    }
    const exclude = options.exclude.length > 0 ? globMatcher(options.exclude) : undefined;
    const pool = new BufferPool(REPO_READ_BYTES);
    for (const dir of dirs) {
      const st = await lstat(dir).catch((err: unknown) => {
        throw new UsageError(`cannot read ${dir}: ${errorMessage(err)}`);
      });
      const at = dir === '/' ? '' : toSafePath(dir.slice(1));
      const parts = at === '' ? [] : at.split('/');
      for (let i = 1; i < parts.length; i++) {
        const ancestor = parts.slice(0, i).join('/');
        archiver.setDirMeta(toSafePath(ancestor), await dirMeta(`/${ancestor}`));
      }
      if (st.isDirectory()) {
        const entries = readDirectory(dir, {
          pool,
          signal: ctx.signal,
          onSkip: (path, reason) => warn(ctx, `skipped ${dir}/${path}: ${reason}`),
          ...(exclude === undefined ? {} : { exclude: (path: SafePath) => exclude(`${dir === '/' ? '' : dir}/${path}`) }),
        });
        await archiver.addTree(at, dir, await dirMeta(dir), recycled(entries, pool), { readFrom: dir });
      } else if (at !== '') {
        const entry = await fileEntryFor(dir, toSafePath(at.slice(at.lastIndexOf('/') + 1)));
        await archiver.addEntry(at, dir, entry);
      }
    }
    const { id, snapshot } = await archiver.commit({ time, host, user: repo.client.user, tags, program: `sluice ${VERSION}` });
    progress.stop();
    const s = snapshot.summary;
    if (options.json === true) {
      printJson(ctx, { id, short_id: shortId(id), time: snapshot.time, host, tags, paths: snapshot.paths, streams: snapshot.streams, parent: snapshot.parent ?? null, summary: s });
    } else if (!quiet) {
      info(
        ctx,
        `snapshot ${shortId(id)} saved: ${s.files} files, ${s.dirs} dirs, ${formatBytes(s.bytes)} read, ` +
          `${formatBytes(s.newBytes)} new (${formatBytes(s.storedBytes)} stored), ${(s.durationMs / 1000).toFixed(1)} s`,
      );
    }
  } catch (err) {
    progress.stop();
    for (const s of sources) s.kill();
    await session?.abandon();
    throw err;
  } finally {
    if (timer !== undefined) clearInterval(timer);
    await Promise.all([workers.close(), stdinReader?.close()]);
    await opened.close();
  }
}

/** `--upload-connections`, or the store's default (object storage gains from more requests in flight). */
export function uploadConnections(text: string | undefined, store: ObjectStore): number {
  if (text !== undefined) return parseCount(text, '--upload-connections', 1, 64);
  return store instanceof S3Store ? 4 : 2;
}

/** Gives each file block back to the read pool once the saver has copied it into a chunk slot. */
async function* recycled(entries: AsyncIterable<Entry>, pool: BufferPool): AsyncGenerator<Entry> {
  for await (const entry of entries) {
    if (entry.kind !== 'file') {
      yield entry;
      continue;
    }
    const content = entry.content;
    yield {
      ...entry,
      content: (async function* () {
        for await (const block of content) {
          yield block;
          pool.give(block);
        }
      })(),
    };
  }
}
