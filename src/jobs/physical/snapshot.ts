/**
 * `snapshot --mariadb` / `snapshot --postgres` as library calls: run the engine's hot-backup tool, store
 * each member file of its stream as a file of one snapshot (`/mariadb/...` or `/postgres/...`) with the
 * backup's description in `/physical.json`, and commit only when the tool exited 0 and the stream was
 * whole. An incremental (`incremental: true`) starts from the `to_lsn` of the newest physical snapshot
 * of the same server taken from this host, whose id it records as its base.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { type SafePath, toSafePath } from '../../entry.js';
import { BufferPool } from '../../bytes/buffer-pool.js';
import { errorMessage, SluiceError } from '../../errors.js';
import { ContentWriter, prestartPool } from '../../repo/content/content-writer.js';
import type { Repository } from '../../repo/repository.js';
import { listSnapshots, type Snapshot } from '../../repo/snapshot/snapshots.js';
import type { CryptoPool } from '../../repo/workers/crypto-pool.js';
import type { FileNode } from '../../repo/snapshot/tree.js';
import { DEMUX_BLOCK_BYTES, demuxBlocksKept, type XbstreamEdit } from '../../source/xbstream-demux.js';
import { defaultUploads } from '../repository/uploads.js';
import { defaultLogFile } from './log-file.js';
import { MemberArchiver } from './member-archiver.js';

export { defaultLogFile };
/** Starts a snapshot's worker threads early (they load while the password is checked); pass the pool as `workers`, close it after. */
export const prestartSnapshotWorkers = prestartPool;
import { type Engine, encodeMetadata, mariadbMetadata, METADATA_FILE, type PhysicalMetadata, postgresMetadata, readMetadata } from './metadata.js';

export interface SnapshotMeta {
  time: Date;
  host: string;
  user: string;
  tags: string[];
  program: string;
}

export interface PhysicalSnapshotResult {
  id: string;
  snapshot: Snapshot;
  metadata: PhysicalMetadata;
  /** mariabackup: what waited for a consumer (memory peak, bytes spooled to disk). */
  held?: { peakMemoryBytes: number; spooledBytes: number };
}

export interface MariadbSnapshotOptions {
  connection: { host?: string; port?: number; user?: string; password?: string; socket?: string };
  incremental?: boolean;
  parallel?: number;
  extraArgs?: readonly string[];
  /** Where temporary files go (spool files, the default log; default: the system's temporary directory). */
  temporaryParent?: string;
  /** mariabackup's messages, appended (default: a new file in `temporaryParent`, removed after a success). */
  logFile?: string;
  /** Keep the log after a success (default: only when `logFile` was given). */
  keepLog?: boolean;
  program?: string;
  memoryBytes?: number;
  signal?: AbortSignal;
  onFile?: (path: string) => void;
  onWarning?: (message: string) => void;
}

export interface PostgresSnapshotOptions {
  connection: { host?: string; port?: number; user?: string };
  extraArgs?: readonly string[];
  program?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onStderr?: (chunk: Uint8Array) => void;
  onFile?: (path: string) => void;
}

/** Meta files are small; anything larger is not kept for the description. */
const MAX_META_BYTES = 1 << 20;
/** Member files stored at once (each holds at most a few chunk slots). */
const MEMBERS_AT_ONCE = 4;

export function serverKey(c: { host?: string; port?: number; socket?: string }, defaultPort: number): string {
  if (c.socket !== undefined && c.host === undefined) return `socket:${c.socket}`;
  return `${c.host ?? 'localhost'}:${c.port ?? defaultPort}`;
}

/** The newest physical snapshot of `engine` for `server` taken from `host`. */
export async function newestOfServer(repo: Repository, pool: CryptoPool, engine: Engine, server: string, host: string): Promise<{ id: string; metadata: PhysicalMetadata } | undefined> {
  const all = await listSnapshots(repo);
  for (const ref of [...all].reverse()) {
    if (ref.snapshot.host !== host) continue;
    const metadata = await readMetadata(repo, pool, ref);
    if (metadata?.engine === engine && metadata.server === server) return { id: ref.id, metadata };
  }
  return undefined;
}

/** Reads a member whole (a meta file) so its bytes can be both stored and parsed. */
async function slurp(content: AsyncIterable<Uint8Array>, path: string): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  let size = 0;
  for await (const piece of content) {
    pieces.push(Uint8Array.from(piece));
    size += piece.length;
    if (size > MAX_META_BYTES) throw new SluiceError('E_META_SIZE', `the backup's ${path} is larger than ${MAX_META_BYTES} bytes: not a meta file`, { path });
  }
  return Buffer.concat(pieces);
}

/**
 * Gives each piece back to `blocks` once the consumer asks for the next: the stores here copy every
 * piece before they do (into a chunk slot, or `Uint8Array.from` for the first small pieces and meta files).
 */
async function* givenBack(content: AsyncIterable<Uint8Array>, blocks: BufferPool): AsyncGenerator<Uint8Array> {
  for await (const piece of content) {
    yield piece;
    blocks.give(piece);
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function commitWith(archiver: MemberArchiver, metadata: PhysicalMetadata, meta: SnapshotMeta, parent?: string): Promise<PhysicalSnapshotResult> {
  await archiver.addFile(toSafePath(METADATA_FILE), { mode: 0o644, mtimeMs: meta.time.getTime() }, once(encodeMetadata(metadata)));
  const { id, snapshot } = await archiver.commit({
    time: meta.time.toISOString(),
    host: meta.host,
    user: meta.user,
    tags: meta.tags,
    paths: [`/${metadata.root}`, `/${METADATA_FILE}`],
    streams: [],
    ...(parent === undefined ? {} : { parent }),
    program: meta.program,
  });
  return { id, snapshot, metadata };
}

export async function snapshotMariadb(repo: Repository, session: ContentWriter, meta: SnapshotMeta, options: MariadbSnapshotOptions): Promise<PhysicalSnapshotResult> {
  const temporaryParent = options.temporaryParent ?? tmpdir();
  const logFile = options.logFile ?? defaultLogFile(temporaryParent, 'mariabackup');
  const keepLog = options.keepLog ?? options.logFile !== undefined;
  const server = serverKey(options.connection, 3306);
  let base: { id: string; metadata: PhysicalMetadata } | undefined;
  if (options.incremental === true) {
    base = await newestOfServer(repo, session.pool, 'mariadb', server, meta.host);
    if (base === undefined) {
      throw new SluiceError('E_NO_BASE', `--incremental: the repository has no physical snapshot of ${server} taken from ${meta.host} to start from; take a full one first`);
    }
    if (base.metadata.toLsn === undefined) throw new SluiceError('E_NO_BASE', `--incremental: snapshot ${base.id.slice(0, 8)} records no to_lsn`);
  }
  const extraArgs = [...(base === undefined ? [] : [`--incremental-lsn=${base.metadata.toLsn}`]), ...(options.extraArgs ?? [])];
  const { isBackupMetaFile, mariabackupSource } = await import('../../source/mariabackup.js');
  const edits: XbstreamEdit[] = [];
  // the stream's bytes (and what is read back from spool files) are in reused blocks, given back once stored
  const blocks = new BufferPool(DEMUX_BLOCK_BYTES, demuxBlocksKept(options.memoryBytes));
  const source = mariabackupSource({
    onEdit: (edit) => edits.push(edit),
    blocks,
    connection: options.connection,
    parallel: options.parallel ?? 1,
    extraArgs,
    temporaryParent,
    logFile,
    ...(options.program === undefined ? {} : { program: options.program }),
    ...(options.memoryBytes === undefined ? {} : { memoryBytes: options.memoryBytes }),
    mtimeMs: meta.time.getTime(),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const archiver = new MemberArchiver(repo, session);
  const metaFiles = new Map<string, Uint8Array>();
  let members = 0;
  // Several members are stored at once: a file that stays open until the end of the stream (ib_logfile0
  // when it starts early, under a write load) must not hold up the others, which would wait in spool files.
  // They are listed at the end in stream order, with the remove/rename chunks (tables dropped or renamed
  // during the backup) replayed where they came, as mbstream -x would apply them.
  const stored: { path: SafePath; node: FileNode }[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let failed: { err: unknown } | undefined;
  try {
    for await (const entry of source.entries) {
      if (failed !== undefined) break;
      const at = toSafePath(`mariadb/${entry.path}`);
      const ordinal = members;
      members += 1;
      options.onFile?.(entry.path);
      const storing = (async () => {
        const content = givenBack(entry.content, blocks);
        if (isBackupMetaFile(entry.path)) {
          const bytes = await slurp(content, entry.path);
          metaFiles.set(entry.path, bytes);
          stored[ordinal] = { path: at, node: await archiver.storeFile(at, entry, once(bytes)) };
        } else {
          stored[ordinal] = { path: at, node: await archiver.storeFile(at, entry, content) };
        }
      })().catch((err: unknown) => {
        failed ??= { err };
      });
      inFlight.add(storing);
      void storing.finally(() => inFlight.delete(storing));
      while (inFlight.size >= MEMBERS_AT_ONCE) await Promise.race(inFlight);
    }
  } finally {
    await Promise.all(inFlight);
  }
  if (failed !== undefined) throw failed.err;
  let next = 0;
  const unmatched: string[] = [];
  const applyEdits = (upTo: number): void => {
    for (; next < edits.length && (edits[next] as XbstreamEdit).after <= upTo; next++) {
      const edit = edits[next] as XbstreamEdit;
      const from = toSafePath(`mariadb/${edit.path}`);
      const done = edit.type === 'remove' ? archiver.remove(from) : archiver.rename(from, toSafePath(`mariadb/${edit.to}`));
      if (!done) unmatched.push(`${edit.type} ${edit.path}`);
    }
  };
  for (const [i, file] of stored.entries()) {
    applyEdits(i);
    archiver.placeFile(file.path, file.node);
  }
  applyEdits(Number.MAX_SAFE_INTEGER);
  if (unmatched.length > 0) {
    // Common under DDL (tables created and dropped during the copy): one line, not one per record.
    const shown = unmatched.slice(0, 3).join(', ');
    options.onWarning?.(`${unmatched.length} of mariabackup's remove/rename records named files it never sent, skipped as mbstream does (${shown}${unmatched.length > 3 ? ', ...' : ''})`);
  }
  const metadata = mariadbMetadata(metaFiles, {
    server,
    tool: options.program ?? 'mariabackup',
    members,
    arguments: extraArgs,
    ...(base === undefined ? {} : { base: base.id }),
  });
  if (base !== undefined && (metadata.backupType !== 'incremental' || metadata.fromLsn !== base.metadata.toLsn)) {
    throw new SluiceError(
      'E_NOT_INCREMENTAL',
      `mariabackup was asked for an incremental from LSN ${base.metadata.toLsn} but wrote ${metadata.backupType} from ${metadata.fromLsn}; no snapshot was written`,
    );
  }
  const result = { ...(await commitWith(archiver, metadata, meta, base?.id)), held: source.held() };
  if (!keepLog) await rm(logFile, { force: true });
  return result;
}

async function toolVersion(program: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(program, ['--version'], { timeout: 10_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

export async function snapshotPostgres(repo: Repository, session: ContentWriter, meta: SnapshotMeta, options: PostgresSnapshotOptions): Promise<PhysicalSnapshotResult> {
  const { pgBasebackupStream } = await import('../../source/pg-basebackup.js');
  const { readTarEntries } = await import('../../container/tar/reader.js');
  const program = options.program ?? 'pg_basebackup';
  const version = await toolVersion(program);
  const bytes = pgBasebackupStream({
    connection: options.connection,
    ...(options.extraArgs === undefined ? {} : { extraArgs: options.extraArgs }),
    program,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onStderr === undefined ? {} : { onStderr: options.onStderr }),
  });
  const archiver = new MemberArchiver(repo, session);
  const metaFiles = new Map<string, Uint8Array>();
  const wanted = new Set(['backup_label', 'PG_VERSION', 'tablespace_map']);
  let members = 0;
  for await (const entry of readTarEntries(bytes, 'pg_basebackup output')) {
    const at = toSafePath(`postgres/${entry.path}`) as SafePath;
    members += 1;
    if (entry.kind === 'dir') archiver.addDir(at, entry);
    else if (entry.kind === 'symlink') archiver.addSymlink(at, entry, entry.target);
    else {
      options.onFile?.(entry.path);
      const bytes = wanted.has(entry.path) ? await slurp(entry.content, entry.path) : undefined;
      if (bytes !== undefined) metaFiles.set(entry.path, bytes);
      await archiver.addFile(at, entry, bytes === undefined ? entry.content : once(bytes));
    }
  }
  const metadata = postgresMetadata(metaFiles, {
    server: serverKey(options.connection, 5432),
    tool: 'pg_basebackup',
    ...(version === undefined ? {} : { toolVersion: version }),
    members,
    arguments: [...(options.extraArgs ?? [])],
  });
  return commitWith(archiver, metadata, meta);
}


/** What `physicalSnapshot` records besides the backup itself, and how it stores it. */
interface PhysicalSnapshotCommon {
  tags?: readonly string[];
  /** Time recorded (default: now); also the mtime of the member files mariabackup sends. */
  time?: Date;
  /** Recorded as the program that wrote the snapshot. */
  program?: string;
  /** Target pack size of this run in bytes (default: the repository's). */
  packSize?: number;
  /** zstd level of this run (default: the repository's). */
  compressionLevel?: number;
  /** Compression/encryption threads (default: CPUs, at most 4), or a pool from `prestartSnapshotWorkers` (then the caller closes it). */
  workers?: number | CryptoPool;
  /** Packs uploaded at once (default: 4 to S3, 2 to a local directory). */
  uploads?: number;
  signal?: AbortSignal;
  /** Each member file as it starts to be stored (its path in the tool's stream). */
  onFile?: (path: string) => void;
}

export type PhysicalSnapshotOptions = PhysicalSnapshotCommon &
  (
    | { engine: 'mariadb'; mariadb: Omit<MariadbSnapshotOptions, 'signal' | 'onFile'> }
    | { engine: 'postgres'; postgres: Omit<PostgresSnapshotOptions, 'signal' | 'onFile'> }
  );

/**
 * A hot physical backup of a running server as one snapshot (`snapshot --mariadb` / `--postgres`): the
 * engine's tool runs, each member file of its stream is stored as a file under `/mariadb` or `/postgres`,
 * the backup's description goes to `/physical.json`, and the snapshot object is written only once the tool
 * exited 0 and its stream was whole. The caller holds a shared lock (openRepository with `lock: 'shared'`).
 * A failure leaves no snapshot, and its message says so.
 */
export async function physicalSnapshot(repo: Repository, options: PhysicalSnapshotOptions): Promise<PhysicalSnapshotResult> {
  const ownWorkers = typeof options.workers !== 'object';
  const workers = typeof options.workers === 'object' ? options.workers : prestartPool(options.workers);
  const meta: SnapshotMeta = { time: options.time ?? new Date(), host: repo.client.host, user: repo.client.user, tags: [...(options.tags ?? [])], program: options.program ?? 'sluice' };
  const common = { ...(options.signal === undefined ? {} : { signal: options.signal }), ...(options.onFile === undefined ? {} : { onFile: options.onFile }) };
  let session: ContentWriter | undefined;
  try {
    await repo.loadIndex();
    session = new ContentWriter(repo, {
      pool: workers,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.packSize === undefined ? {} : { packSize: options.packSize }),
      ...(options.compressionLevel === undefined ? {} : { level: options.compressionLevel }),
      uploads: options.uploads ?? defaultUploads(repo.store),
    });
    return options.engine === 'mariadb'
      ? await snapshotMariadb(repo, session, meta, { ...options.mariadb, ...common })
      : await snapshotPostgres(repo, session, meta, { ...options.postgres, ...common });
  } catch (err) {
    await session?.abandon();
    throw Object.assign(err as object, { message: `${errorMessage(err)}; no snapshot was written` });
  } finally {
    if (ownWorkers) await workers.close();
  }
}
