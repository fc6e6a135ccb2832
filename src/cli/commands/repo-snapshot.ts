/**
 * `sluice snapshot [DIR...] [--stdin NAME] [--stdin-from-command NAME -- CMD ARGS...] [--command NAME=CMD]`:
 * one snapshot of any number of directories and named streams.
 */
import type { Command } from 'commander';
import { prestartSnapshotWorkers, readFdOnThread, snapshot as snapshotJob, type SnapshotStream, streamName } from '../../jobs/repository/snapshot.js';
import { UsageError } from '../../errors.js';
import { shortId } from '../../jobs/repository/ref.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { binaryStdin } from '../output.js';
import { info, warn } from '../log.js';
import { showStreamProgress } from '../progress.js';
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

const collect = (value: string, previous: string[]): string[] => [...previous, value];

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

  const quiet = options.quiet === true || options.json === true;
  const onStderr = (chunk: Uint8Array): void => {
    if (!quiet) ctx.stderr.write(chunk);
  };
  // Names and command lines are checked before the repository is opened.
  const commands: { name: string; command: string[] }[] = [];
  const stdinName = options.stdin === undefined ? undefined : streamName(options.stdin);
  if (options.stdinFromCommand !== undefined) commands.push({ name: streamName(options.stdinFromCommand), command: streamCommand as string[] });
  for (const spec of options.command) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--command "${spec}": expected NAME=COMMAND`);
    commands.push({ name: streamName(spec.slice(0, eq)), command: ['/bin/sh', '-c', spec.slice(eq + 1)] });
  }
  if (paths.length === 0 && stdinName === undefined && commands.length === 0) throw new UsageError('nothing to store: give directories, --stdin NAME or --stdin-from-command NAME');
  const stdin = stdinName === undefined ? undefined : binaryStdin(ctx, 'the stream for --stdin');
  const packSize = options.packSize === undefined ? undefined : parseSize(options.packSize, '--pack-size');
  const compressionLevel = options.compression === undefined ? undefined : parseCompression(options.compression);
  const uploads = options.uploadConnections === undefined ? undefined : parseCount(options.uploadConnections, '--upload-connections', 1, 64);

  // The worker threads load their modules while the password is checked (scrypt runs off this thread).
  // Real stdin (a pipe or file) is read and cut by a thread of its own; another stream here is read in-process.
  const workers = prestartSnapshotWorkers(options.workers === undefined ? undefined : parseCount(options.workers, '--workers', 1, 16));
  const stdinFd = (stdin as { fd?: unknown } | undefined)?.fd;
  const stdinReader = stdin !== undefined && stdinFd === 0 && ctx.stdin === process.stdin ? readFdOnThread(0) : undefined;
  const streams: SnapshotStream[] = [
    ...(stdinName === undefined ? [] : [{ name: stdinName, content: stdinReader ?? (stdin as AsyncIterable<Uint8Array>) }]),
    ...commands.map((c) => ({ ...c, env: ctx.env, onStderr })),
  ];
  let opened;
  try {
    opened = await openRepository(ctx, options, { exclusive: false, purpose: 'snapshot' }, options.host === undefined ? {} : { host: options.host });
  } catch (err) {
    await Promise.all([workers.close(), stdinReader?.close()]);
    throw err;
  }
  const progress = showStreamProgress(ctx, quiet ? false : options.progress, 'snapshot ');
  try {
    const { id, snapshot } = await snapshotJob(opened.repo, {
      paths,
      streams,
      tags,
      time,
      ...(options.parent === undefined ? {} : { parent: options.parent }),
      force: options.force === true,
      exclude: options.exclude,
      ...(packSize === undefined ? {} : { packSize }),
      ...(compressionLevel === undefined ? {} : { compressionLevel }),
      workers,
      ...(uploads === undefined ? {} : { uploads }),
      program: `sluice ${VERSION}`,
      signal: ctx.signal,
      onWarning: (m) => warn(ctx, m),
      onProgress: progress.onProgress,
    });
    progress.stop();
    const s = snapshot.summary;
    if (options.json === true) {
      printJson(ctx, { id, short_id: shortId(id), time: snapshot.time, host: snapshot.host, tags, paths: snapshot.paths, streams: snapshot.streams, parent: snapshot.parent ?? null, summary: s });
    } else if (!quiet) {
      info(
        ctx,
        `snapshot ${shortId(id)} saved: ${s.files} files, ${s.dirs} dirs, ${formatBytes(s.bytes)} read, ` +
          `${formatBytes(s.newBytes)} new (${formatBytes(s.storedBytes)} stored), ${(s.durationMs / 1000).toFixed(1)} s`,
      );
    }
  } catch (err) {
    progress.stop();
    throw err;
  } finally {
    await Promise.all([workers.close(), stdinReader?.close()]);
    await opened.close();
  }
}
