/**
 * Restores a physical snapshot into a data directory a server starts on.
 *
 * MariaDB: the member files of the full backup and of each incremental of its chain are restored into a
 * work directory beside the data directory (verified chunk by chunk, like any restore), then the
 * engine's own steps run in order: `mariabackup --prepare` on the full, `--prepare --incremental-dir` for
 * each incremental, then `--move-back` into the empty data directory, and `chown -R` for `owner`.
 * PostgreSQL: the tar members go straight into the empty data directory (mode 0700); the WAL the copy
 * needs is in it (`pg_wal/`, pg_basebackup -X fetch), so `postgres -D` recovers and starts.
 */
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { SluiceError, UsageError } from '../../errors.js';
import { readCheckpoints } from '../../physical/checkpoints.js';
import { runTool } from '../../physical/run-tool.js';
import type { Repository } from '../../repo/repository.js';
import { restoreTree } from '../../repo/snapshot/restore.js';
import { findNode } from '../../repo/snapshot/walker.js';
import type { CryptoPool } from '../../repo/workers/crypto-pool.js';
import { listSnapshots, resolveSnapshot } from '../../repo/snapshot/snapshots.js';
import { toSafePath } from '../../entry.js';
import { withCryptoPool } from '../repository/crypto-pool.js';
import { type ChainLink, physicalChain } from './chain.js';
import { defaultLogFile } from './log-file.js';

export interface PhysicalRestoreOptions {
  /** The data directory to fill: must be empty or absent. */
  datadir: string;
  owner?: string;
  program?: string;
  logFile: string;
  concurrency?: number;
  signal?: AbortSignal;
  onStep?: (message: string) => void;
}

export interface PhysicalRestoreResult {
  snapshots: number;
  bytes: number;
  toLsn?: string;
}

/** Creates `dir` (mode) or checks that it is empty; refuses anything else before a byte is written. */
export async function requireEmptyDir(dir: string, option: string, mode: number): Promise<void> {
  const existing = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new UsageError(`${option} ${dir}: ${err.message}`);
  });
  if (existing !== undefined && existing.length > 0) {
    throw new UsageError(`${option} ${dir} is not empty (${existing.length} entries): a physical restore only fills an empty data directory`);
  }
  await mkdir(dir, { recursive: true, mode });
}

async function memberRoot(repo: Repository, link: ChainLink) {
  const node = await findNode(repo, link.ref.snapshot.tree, toSafePath(link.metadata.root));
  if (node.type !== 'dir') throw new SluiceError('E_NOT_PHYSICAL', `/${link.metadata.root} of snapshot ${link.ref.id.slice(0, 8)} is not a directory`);
  return node;
}

async function giveTo(owner: string | undefined, dir: string, signal: AbortSignal | undefined): Promise<void> {
  if (owner === undefined) return;
  await runTool({ program: 'chown', args: ['-R', '--', owner, dir], logFile: '/dev/null', ...(signal === undefined ? {} : { signal }) }).catch((err: unknown) => {
    throw new SluiceError('E_OWNER', `restored into ${dir}, but could not give it to ${owner}: ${(err as Error).message}`, {}, { cause: err });
  });
}

export async function restoreMariadbChain(repo: Repository, pool: CryptoPool, chain: readonly ChainLink[], options: PhysicalRestoreOptions): Promise<PhysicalRestoreResult> {
  if (chain.some((l) => l.metadata.engine !== 'mariadb')) throw new UsageError('--datadir restores MariaDB physical snapshots (use --pgdata for PostgreSQL)');
  await requireEmptyDir(options.datadir, '--datadir', 0o750);
  const work = await mkdtemp(join(dirname(options.datadir), `.${basename(options.datadir)}.sluice-restore-`));
  const program = options.program ?? 'mariabackup';
  const tool = (args: string[]): Promise<void> => runTool({ program, args, logFile: options.logFile, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  let bytes = 0;
  try {
    const dirs: string[] = [];
    for (const [i, link] of chain.entries()) {
      const dir = join(work, i === 0 ? 'full' : `incremental-${i}`);
      options.onStep?.(`restoring ${link.ref.id.slice(0, 8)} (${link.metadata.backupType}, LSN ${link.metadata.fromLsn}..${link.metadata.toLsn}) into ${dir}`);
      const stats = await restoreTree(repo, pool, await memberRoot(repo, link), dir, {
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      bytes += stats.bytes;
      dirs.push(dir);
    }
    const full = dirs[0] as string;
    options.onStep?.(`mariabackup --prepare ${full}`);
    await tool(['--prepare', `--target-dir=${full}`]);
    for (const inc of dirs.slice(1)) {
      options.onStep?.(`mariabackup --prepare --incremental-dir=${inc}`);
      await tool(['--prepare', `--target-dir=${full}`, `--incremental-dir=${inc}`]);
    }
    const prepared = await readCheckpoints(full);
    options.onStep?.(`mariabackup --move-back into ${options.datadir}`);
    await tool(['--move-back', `--target-dir=${full}`, `--datadir=${options.datadir}`]);
    await giveTo(options.owner, options.datadir, options.signal);
    return { snapshots: chain.length, bytes, ...(prepared === undefined ? {} : { toLsn: String(prepared.toLsn) }) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function restorePostgres(repo: Repository, pool: CryptoPool, chain: readonly ChainLink[], options: PhysicalRestoreOptions): Promise<PhysicalRestoreResult> {
  const link = chain[chain.length - 1] as ChainLink;
  if (chain.length !== 1 || link.metadata.engine !== 'postgres') throw new UsageError('--pgdata restores PostgreSQL physical snapshots (use --datadir --prepare for MariaDB)');
  await requireEmptyDir(options.datadir, '--pgdata', 0o700);
  await chmod(options.datadir, 0o700);
  const stats = await restoreTree(repo, pool, await memberRoot(repo, link), options.datadir, {
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  await chmod(options.datadir, 0o700);
  await giveTo(options.owner, options.datadir, options.signal);
  return { snapshots: 1, bytes: stats.bytes };
}

export interface RestorePhysicalOptions {
  /**
   * `mariadb`: the chain (full + incrementals) restored, prepared and moved into `directory`;
   * `postgres`: the snapshot's members into `directory` (mode 0700). The snapshot must be of that engine.
   */
  engine: 'mariadb' | 'postgres';
  /** The data directory to fill: must be empty or absent. */
  directory: string;
  /** Give every restored file to this owner (`chown -R`), e.g. `mysql`. */
  owner?: string;
  /** The mariabackup program (default `mariabackup`). */
  program?: string;
  /** mariabackup's messages, appended (default: a temporary file, removed after a success). */
  logFile?: string;
  /** Chunks fetched and decrypted at once. */
  concurrency?: number;
  /** With `latest`: the newest snapshot of this host. */
  host?: string;
  signal?: AbortSignal;
  /** Each step as it starts (a snapshot restored, a mariabackup run). */
  onStep?: (message: string) => void;
}

export interface RestorePhysicalResult extends PhysicalRestoreResult {
  /** The snapshot named, and its chain oldest first (the full backup, then each incremental). */
  snapshot: string;
  chain: string[];
}

/**
 * Restores a physical snapshot (`ID` or `latest`) into an empty data directory a server starts on
 * (`restore --datadir --prepare` / `restore --pgdata`): each link of the chain is checked before
 * anything is written, then restored verified, and the engine's own prepare steps run in order.
 */
export async function restorePhysical(repo: Repository, snapshot: string, options: RestorePhysicalOptions): Promise<RestorePhysicalResult> {
  const all = await listSnapshots(repo);
  const ref = resolveSnapshot(all, snapshot, options.host === undefined ? {} : { host: options.host });
  await repo.loadIndex();
  const logFile = options.logFile ?? defaultLogFile(tmpdir(), 'restore');
  return withCryptoPool(repo, async (pool) => {
    const chain = await physicalChain(repo, pool, all, ref);
    const steps: PhysicalRestoreOptions = {
      datadir: resolve(options.directory),
      ...(options.owner === undefined ? {} : { owner: options.owner }),
      program: options.program ?? 'mariabackup',
      logFile,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
    };
    const result = options.engine === 'mariadb' ? await restoreMariadbChain(repo, pool, chain, steps) : await restorePostgres(repo, pool, chain, steps);
    if (options.logFile === undefined) await rm(logFile, { force: true });
    return { ...result, snapshot: ref.id, chain: chain.map((l) => l.ref.id) };
  });
}
