/**
 * The dump job: a consistent, parallel logical dump in mydumper's directory layout.
 *
 * Consistency (the default, "ftwrl"): the main connection takes FLUSH TABLES WITH READ LOCK, reads
 * the binlog position and GTID set, every worker then opens START TRANSACTION WITH CONSISTENT
 * SNAPSHOT, non-transactional tables are dumped while the lock is still held, and the lock is
 * released before any transactional data is read. "trx-only" releases the lock as soon as the
 * snapshots exist; "none" takes no lock (each worker still has its own snapshot).
 *
 * Parallelism: tables with a single-column integer key are cut into ranges of about --rows rows;
 * every range is one job; N workers take jobs, largest tables first. Each job streams its rows
 * through InsertFormatter into a file, pausing the connection while the file cannot keep up.
 */
import { type Compression, dataFileName, postFileName, schemaCreateFileName, tableFileName } from '../../container/mydumper-stream/layout.js';
import { SluiceError } from '../../errors.js';
import { type CatalogFilter, readCatalog, selectPlan, type TableInfo } from './catalog.js';
import { type ConnectOptions, quoteIdent, Session, text } from '../../mysql/connection.js';
import { type ClosedFile, type DumpFile, DumpDir } from './output.js';
import { type FormatterOutput, InsertFormatter } from './row-format.js';
import {
  type BinlogPosition,
  DATA_FILE_HEADER,
  DATA_FILE_HEADER_UTF8,
  databaseSchema,
  metadataText,
  postSchema,
  readBinlogPosition,
  tableSchema,
  triggersSchema,
  viewPlaceholder,
  viewSchema,
} from './schema.js';

export type LockMode = 'ftwrl' | 'trx-only' | 'none';

export interface DumpOptions extends CatalogFilter {
  connection: ConnectOptions;
  outputDir: string;
  threads: number;
  /** Rows per chunk; undefined: about 64 MiB of data per chunk; 0: no chunking. */
  rows?: number;
  /** Start a new data file once one has this many bytes (0: off). */
  chunkFileBytes?: number;
  statementBytes?: number;
  compress?: Compression;
  compressLevel?: number;
  noData?: boolean;
  noSchemas?: boolean;
  triggers?: boolean;
  events?: boolean;
  routines?: boolean;
  where?: string;
  lock?: LockMode;
  hexBlob?: boolean;
  completeInsert?: boolean;
  /** Called when a file is complete (the stream sender); may wait. */
  onFileClosed?: (file: ClosedFile) => Promise<void>;
  onProgress?: (p: DumpProgress) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  tool?: string;
}

export interface DumpProgress {
  tablesTotal: number;
  tablesDone: number;
  rows: number;
  /** SQL bytes produced (before compression). */
  bytes: number;
  files: number;
  elapsedMs: number;
}

export interface DumpSummary {
  outputDir: string;
  databases: number;
  tables: number;
  views: number;
  rows: number;
  bytes: number;
  fileBytes: number;
  files: number;
  seconds: number;
  binlog: BinlogPosition;
  consistent: boolean;
}

const DEFAULT_CHUNK_BYTES = 64 << 20;
const DEFAULT_STATEMENT_BYTES = 1_000_000;

interface Job {
  table: TableInfo;
  /** SQL condition for this range, or undefined for the whole table. */
  range?: string;
  /** The range's place in key order: its file is `db.table.PART.sql` whichever thread dumps it first. */
  part: number;
  weight: number;
}

class TableState {
  rows = 0;
  jobsLeft = 0;
  constructor(readonly table: TableInfo) {}
}

/** The global read lock of the main connection, released at most once. */
class GlobalReadLock {
  #held = false;
  constructor(readonly main: Session) {}

  get held(): boolean {
    return this.#held;
  }

  async take(): Promise<void> {
    await this.main.exec('FLUSH TABLES WITH READ LOCK');
    this.#held = true;
  }

  async release(): Promise<void> {
    if (!this.#held) return;
    await this.main.exec('UNLOCK TABLES');
    this.#held = false;
  }
}

interface DumpSessions {
  main: Session;
  workers: Session[];
  all(): Session[];
}

export async function runDump(options: DumpOptions): Promise<DumpSummary> {
  const started = new Date();
  const t0 = performance.now();
  const lockMode = options.lock ?? 'ftwrl';
  const dir = new DumpDir({
    dir: options.outputDir,
    ...(options.compress === undefined ? {} : { compress: options.compress }),
    ...(options.compressLevel === undefined ? {} : { compressLevel: options.compressLevel }),
    ...(options.onFileClosed === undefined ? {} : { onClosed: options.onFileClosed }),
    compressThreads: Math.max(1, options.threads),
  });
  await dir.prepare();
  const sessions = await openSessions(options.connection, Math.max(1, options.threads));
  const { main, workers } = sessions;
  const onAbort = (): void => {
    for (const s of sessions.all()) s.destroy();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const lock = new GlobalReadLock(main);
  try {
    await Promise.all([setupSession(main, false), ...workers.map((w) => setupSession(w, true))]);
    const catalog = await readCatalog(main, options);
    const tables = catalog.tables.filter((t) => t.kind !== 'view');
    const views = catalog.tables.filter((t) => t.kind === 'view');
    const nonTrx = options.noData === true ? [] : tables.filter((t) => !t.transactional);
    const binlog = await takeSnapshot(sessions, lock, lockMode, nonTrx, options.onWarning);
    if (options.noSchemas !== true) await writeSchemas(dir, main, catalog.databases, tables, views);
    const states = new Map<TableInfo, TableState>(tables.map((t) => [t, new TableState(t)]));
    const progress: DumpProgress = { tablesTotal: tables.length, tablesDone: 0, rows: 0, bytes: 0, files: 0, elapsedMs: 0 };
    const report = (): void => {
      progress.elapsedMs = performance.now() - t0;
      progress.files = dir.files;
      options.onProgress?.({ ...progress });
    };
    await dumpData({ options, dir, states, progress }, workers, lock, tables, nonTrx, report);
    for (const w of workers) await w.exec('COMMIT').catch(() => undefined);
    if (options.noSchemas !== true) await writePostData(dir, main, catalog.databases, tables, views, options);
    report();
    await dir.writeMetadata(
      metadataText({
        started,
        finished: new Date(),
        binlog,
        consistent: lockMode === 'ftwrl',
        tool: options.tool ?? 'sluice',
        tables: [
          ...tables.map((t) => ({ db: t.db, table: t.name, rows: states.get(t)?.rows ?? 0, isView: false })),
          ...views.map((v) => ({ db: v.db, table: v.name, rows: 0, isView: true })),
        ],
      }),
    );
    return {
      outputDir: options.outputDir,
      databases: catalog.databases.length,
      tables: tables.length,
      views: views.length,
      rows: progress.rows,
      bytes: progress.bytes,
      fileBytes: dir.bytes,
      files: dir.files,
      seconds: (performance.now() - t0) / 1000,
      binlog,
      consistent: lockMode === 'ftwrl',
    };
  } catch (err) {
    if (options.signal?.aborted === true) {
      throw new SluiceError('E_INTERRUPTED', 'dump interrupted', {}, { cause: err, exitCode: 130 });
    }
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await lock.release().catch(() => undefined);
    await Promise.all(sessions.all().map((s) => s.close().catch(() => undefined)));
    await dir.close();
  }
}

/** The main connection and `threads` workers (binary), all opened at once: each open is a few round trips. */
async function openSessions(connection: ConnectOptions, threads: number): Promise<DumpSessions> {
  const opening = [Session.open(connection), ...Array.from({ length: threads }, () => Session.open(connection, true))];
  const opened = await Promise.allSettled(opening);
  const bad = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad !== undefined) {
    for (const r of opened) if (r.status === 'fulfilled') r.value.destroy();
    throw bad.reason;
  }
  const [main, ...workers] = opened.map((r) => (r as PromiseFulfilledResult<Session>).value) as [Session, ...Session[]];
  return { main, workers, all: () => [main, ...workers] };
}

/**
 * The consistent snapshot: under the global read lock (unless lockMode is none) the binlog position is
 * read and every worker starts its transaction. The lock stays held only in ftwrl mode with
 * non-transactional tables to dump (dumpData releases it once they are done).
 */
async function takeSnapshot(
  sessions: DumpSessions,
  lock: GlobalReadLock,
  lockMode: LockMode,
  nonTrx: readonly TableInfo[],
  onWarning: ((message: string) => void) | undefined,
): Promise<BinlogPosition> {
  if (lockMode !== 'none') await lock.take();
  const binlog = await readBinlogPosition(sessions.main);
  await Promise.all(
    sessions.workers.map(async (w) => {
      await w.exec('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await w.exec('START TRANSACTION /*!40108 WITH CONSISTENT SNAPSHOT */');
    }),
  );
  if (!(lockMode === 'ftwrl' && nonTrx.length > 0)) await lock.release();
  if (nonTrx.length > 0 && lockMode !== 'ftwrl') {
    onWarning?.(
      `${nonTrx.length} non-transactional table(s) (${nonTrx.slice(0, 3).map((t) => `${t.db}.${t.name}`).join(', ')}` +
        `${nonTrx.length > 3 ? ', …' : ''}) are dumped without a lock and may be inconsistent`,
    );
  }
  return binlog;
}

async function writeSchemas(dir: DumpDir, main: Session, databases: readonly string[], tables: readonly TableInfo[], views: readonly TableInfo[]): Promise<void> {
  for (const db of databases) await dir.writeWhole(schemaCreateFileName(db), await databaseSchema(main, db));
  for (const t of tables) await dir.writeWhole(tableFileName(t.db, t.name, '-schema'), await tableSchema(main, t));
  for (const v of views) await dir.writeWhole(tableFileName(v.db, v.name, '-schema'), viewPlaceholder(v));
}

/** The rows: non-transactional tables first (under the lock, if held), then the lock goes, then the rest. */
async function dumpData(
  ctx: JobContext,
  workers: Session[],
  lock: GlobalReadLock,
  tables: readonly TableInfo[],
  nonTrx: TableInfo[],
  report: () => void,
): Promise<void> {
  const ticker = setInterval(report, 1000);
  ticker.unref();
  try {
    if (ctx.options.noData === true) {
      await lock.release();
      return;
    }
    if (nonTrx.length > 0) await runJobs(workers, await planJobs(workers[0] as Session, nonTrx, ctx.options), ctx);
    await lock.release();
    const trx = tables.filter((t) => t.transactional);
    await runJobs(workers, await planJobs(workers[0] as Session, trx, ctx.options), ctx);
  } finally {
    clearInterval(ticker);
  }
}

/** Views, triggers, routines and events: written after the data, as mydumper does. */
async function writePostData(
  dir: DumpDir,
  main: Session,
  databases: readonly string[],
  tables: readonly TableInfo[],
  views: readonly TableInfo[],
  options: DumpOptions,
): Promise<void> {
  for (const v of views) await dir.writeWhole(tableFileName(v.db, v.name, '-schema-view'), await viewSchema(main, v));
  if (options.triggers === true) {
    for (const t of tables) {
      const trg = await triggersSchema(main, t.db, t.name);
      if (trg !== undefined) await dir.writeWhole(tableFileName(t.db, t.name, '-schema-triggers'), trg);
    }
  }
  if (options.routines === true || options.events === true) {
    for (const db of databases) {
      const post = await postSchema(main, db, { routines: options.routines === true, events: options.events === true });
      if (post !== undefined) await dir.writeWhole(postFileName(db), post);
    }
  }
}

async function setupSession(s: Session, binary: boolean): Promise<void> {
  // A paused reader (backpressure) must not make the server give up on us: long write timeout.
  await s.exec(
    `SET ${binary ? 'NAMES binary, ' : ''}SESSION time_zone = '+00:00', SESSION wait_timeout = 2147483, ` +
      "SESSION net_write_timeout = 86400, SESSION sql_mode = ''",
  );
}

/** Cuts tables with an integer key into ranges (using the snapshot of `s`). */
async function planJobs(s: Session, tables: TableInfo[], options: DumpOptions): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const t of tables) {
    const perChunk =
      options.rows !== undefined
        ? options.rows
        : t.dataBytes > 0 && t.estimatedRows > 0
          ? Math.max(10_000, Math.floor((DEFAULT_CHUNK_BYTES * t.estimatedRows) / t.dataBytes))
          : 0;
    const weight = Math.max(t.dataBytes, 1);
    if (t.kind !== 'table' || t.chunkKey === undefined || perChunk <= 0 || t.estimatedRows <= perChunk) {
      jobs.push({ table: t, part: 0, weight });
      continue;
    }
    const key = quoteIdent(t.chunkKey);
    const rows = await s.query<Record<string, unknown>>(
      `SELECT MIN(${key}) AS lo, MAX(${key}) AS hi FROM ${quoteIdent(t.db)}.${quoteIdent(t.name)}`,
    );
    const loText = rows[0]?.lo;
    const hiText = rows[0]?.hi;
    if (loText === null || loText === undefined || hiText === null || hiText === undefined) {
      jobs.push({ table: t, part: 0, weight });
      continue;
    }
    const lo = BigInt(text(loText));
    const hi = BigInt(text(hiText));
    const count = Math.min(10_000, Math.ceil(t.estimatedRows / perChunk));
    const span = hi - lo + 1n;
    const step = span / BigInt(count) + (span % BigInt(count) === 0n ? 0n : 1n);
    if (count <= 1 || step <= 0n) {
      jobs.push({ table: t, part: 0, weight });
      continue;
    }
    for (let i = 0; i < count; i++) {
      const a = lo + step * BigInt(i);
      const b = a + step;
      // The first range has no lower bound and the last none above, so rows outside [lo, hi] are kept too.
      // One BETWEEN costs the server less per row than two comparisons (integer keys: [a, b) = a..b-1).
      const range = i === 0 ? `${key} < ${b}` : i === count - 1 ? `${key} >= ${a}` : `${key} BETWEEN ${a} AND ${b - 1n}`;
      jobs.push({ table: t, range, part: i, weight: weight / count });
      if (b > hi) break;
    }
  }
  // Largest work first, ranges of one table in key order.
  return jobs
    .map((j, i) => ({ j, i }))
    .sort((x, y) => y.j.table.dataBytes - x.j.table.dataBytes || x.i - y.i)
    .map((x) => x.j);
}

interface JobContext {
  options: DumpOptions;
  dir: DumpDir;
  states: Map<TableInfo, TableState>;
  progress: DumpProgress;
}

async function runJobs(workers: Session[], jobs: Job[], ctx: JobContext): Promise<void> {
  for (const j of jobs) {
    const st = ctx.states.get(j.table) as TableState;
    st.jobsLeft += 1;
  }
  let next = 0;
  let failure: unknown;
  await Promise.all(
    workers.map(async (w) => {
      while (failure === undefined) {
        const job = jobs[next++];
        if (job === undefined) break;
        try {
          await dumpJob(w, job, ctx);
        } catch (err) {
          failure ??= err;
          for (const other of workers) if (other !== w) other.destroy();
        }
      }
    }),
  );
  if (failure !== undefined) throw failure;
}

async function dumpJob(s: Session, job: Job, ctx: JobContext): Promise<void> {
  const t = job.table;
  const st = ctx.states.get(t) as TableState;
  const plan = selectPlan(t, { hexBlob: ctx.options.hexBlob === true, completeInsert: ctx.options.completeInsert === true });
  // --where filters table rows; a sequence's one row is its state and is always kept.
  const where = ctx.options.where === undefined || t.kind === 'sequence' ? undefined : `(${ctx.options.where})`;
  const conditions = [job.range, where].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  const sql =
    `SELECT /*!40001 SQL_NO_CACHE */ ${plan.selectList} FROM ${quoteIdent(t.db)}.${quoteIdent(t.name)}` +
    (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '');

  let file: DumpFile | undefined;
  const closing: Promise<unknown>[] = [];
  let paused = false;
  const flow = s.flow;
  const output: FormatterOutput = {
    write(buf, length, release) {
      if (file === undefined) file = ctx.dir.open(dataFileName(t.db, t.name, job.part));
      const f = file;
      f.write(buf, length, release);
      ctx.progress.bytes += length;
      if (f.needDrain && !paused) {
        paused = true;
        flow.pause();
        void f.drained().then(() => {
          paused = false;
          flow.resume();
        });
      }
    },
    nextFile() {
      if (file !== undefined) closing.push(file.close());
      file = undefined;
    },
  };
  const formatter = new InsertFormatter(
    {
      kinds: plan.kinds,
      insertPrefix: plan.insertPrefix,
      fileHeader: plan.utf8Identifiers ? DATA_FILE_HEADER_UTF8 : DATA_FILE_HEADER,
      statementBytes: ctx.options.statementBytes ?? DEFAULT_STATEMENT_BYTES,
      maxFileBytes: ctx.options.chunkFileBytes ?? 0,
    },
    output,
  );
  let counted = 0;
  try {
    await s.rawRows(sql, (b, start, end) => {
      formatter.addRow(b, start, end);
      counted += 1;
      if ((counted & 1023) === 0) {
        ctx.progress.rows += 1024;
      }
    });
    formatter.finish();
  } finally {
    ctx.progress.rows += counted & 1023;
    if (file !== undefined) closing.push(file.close());
    file = undefined;
    const results = await Promise.allSettled(closing);
    const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (bad !== undefined) throw bad.reason;
  }
  st.rows += formatter.rows;
  st.jobsLeft -= 1;
  if (st.jobsLeft === 0) ctx.progress.tablesDone += 1;
}
