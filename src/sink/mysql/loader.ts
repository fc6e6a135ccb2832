/**
 * The loader: replays a mydumper-layout dump into a server with N connections.
 *
 * Files are added one by one (all at once for a directory, as they arrive for a stream) and become
 * tasks, gated by what they depend on:
 *   database  CREATE DATABASE (renamed with --database)                         first
 *   schema    CREATE TABLE, after its database                                  then
 *   data      INSERT statements, as soon as the table exists; largest first     in parallel
 *   indexes   deferred secondary keys (--defer-indexes), once all of a table's data is in
 *   post      views, triggers, routines and events, after everything else, on one connection
 * A data file whose table has no schema file is loaded once the list of files is complete
 * (the table must already exist: a --no-schemas dump).
 *
 * Each connection runs with binary logging off (unless enableBinlog), foreign key and unique checks
 * off, sql_mode NO_AUTO_VALUE_ON_ZERO and time zone +00:00, and commits every
 * `queriesPerTransaction` statements. A transaction (or autocommit statement) that meets a deadlock
 * or a lock wait timeout is rolled back and replayed from its first statement, a few times (retry.ts),
 * each retry reported through onWarning. Any other failing statement stops the load: the error
 * names the file and the statement number.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecompressStream } from 'zstd-napi';
import { classifyDumpFile, type DumpFileName, tableKey } from '../../container/mydumper-stream/layout.js';
import { SluiceError } from '../../errors.js';
import { type ConnectOptions, quoteIdent, quoteString, Session } from '../../mysql/connection.js';
import { addIndexesStatement, deferSecondaryIndexes } from './indexes.js';
import { type ChunkSource, ReplayableStatements } from './replayable-statements.js';
import { DATA_LOCK_RETRY, type RetryHooks, SCHEMA_LOCK_RETRY, withLockRetry } from './retry.js';
import { schemaStatements, type Statement, type StatementBytes } from './statements.js';

export interface LoadOptions {
  connection: ConnectOptions;
  threads: number;
  /** Drop tables and views that already exist before creating them. */
  overwriteTables?: boolean;
  /** Load every database of the dump into this one. */
  targetDatabase?: string;
  /** Load only this database of the dump. */
  sourceDatabase?: string;
  queriesPerTransaction?: number;
  enableBinlog?: boolean;
  deferIndexes?: boolean;
  noData?: boolean;
  skipTriggers?: boolean;
  skipPost?: boolean;
  /** Delete each file once loaded (stream modes TRADITIONAL and NO_STREAM). */
  deleteAfterLoad?: boolean;
  onProgress?: (p: LoadProgress) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

export interface LoadProgress {
  tablesTotal: number;
  tablesDone: number;
  files: number;
  filesDone: number;
  rows: number;
  /** File bytes read (compressed size for compressed files). */
  bytes: number;
  elapsedMs: number;
}

export interface LoadSummary {
  databases: number;
  tables: number;
  views: number;
  files: number;
  rows: number;
  bytes: number;
  statements: number;
  seconds: number;
}

export interface LoadFile {
  name: string;
  path: string;
  size: number;
}

export class LoadError extends SluiceError {}

type Task =
  | { type: 'database'; file: LoadFile; info: DumpFileName }
  | { type: 'schema'; file: LoadFile; info: DumpFileName; key: string }
  | { type: 'data'; file: LoadFile; info: DumpFileName; key: string }
  | { type: 'indexes'; key: string };

interface TableState {
  db: string;
  table: string;
  schemaSeen: boolean;
  created: boolean;
  dataAdded: number;
  dataDone: number;
  deferred?: string[];
  /** Resolves once the table has its first rows (see #runDataFile). */
  primed?: Promise<void>;
  indexesQueued: boolean;
  done: boolean;
}

export class Loader {
  readonly #o: LoadOptions;
  readonly #sessions: Session[] = [];
  readonly #tables = new Map<string, TableState>();
  readonly #dbTasksPending = new Map<string, number>();
  readonly #dbsReady = new Set<string>();
  readonly #queue: Task[] = [];
  readonly #post: { file: LoadFile; info: DumpFileName }[] = [];
  #running = 0;
  #ended = false;
  #failure: unknown;
  #wakers: (() => void)[] = [];
  #workers: Promise<void>[] = [];
  readonly #t0 = performance.now();
  readonly #progress: LoadProgress = { tablesTotal: 0, tablesDone: 0, files: 0, filesDone: 0, rows: 0, bytes: 0, elapsedMs: 0 };
  #statements = 0;
  readonly #databases = new Set<string>();
  readonly #views = new Set<string>();
  #ticker: NodeJS.Timeout | undefined;

  constructor(options: LoadOptions) {
    this.#o = options;
  }

  /** Connects and starts the workers; files can be added from then on. */
  async start(): Promise<void> {
    const n = Math.max(1, this.#o.threads);
    try {
      for (let i = 0; i < n; i++) {
        const s = await Session.open(this.#o.connection, true);
        this.#sessions.push(s);
        await this.#setup(s);
      }
    } catch (err) {
      for (const s of this.#sessions) s.destroy();
      throw err;
    }
    this.#o.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#ticker = setInterval(() => this.#report(), 1000);
    this.#ticker.unref();
    this.#workers = this.#sessions.map((s) => this.#work(s));
  }

  readonly #onAbort = (): void => {
    this.#fail(new SluiceError('E_INTERRUPTED', 'load interrupted', {}, { exitCode: 130 }));
    for (const s of this.#sessions) s.destroy();
  };

  async #setup(s: Session): Promise<void> {
    if (this.#o.enableBinlog !== true) {
      await s.exec('SET SESSION sql_log_bin = 0').catch((err: unknown) => {
        this.#o.onWarning?.(`cannot turn binary logging off for the load (${(err as Error).message}); it stays on`);
      });
    }
    await s.exec('SET SESSION foreign_key_checks = 0');
    await s.exec('SET SESSION unique_checks = 0');
    await s.exec("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
    await s.exec("SET SESSION time_zone = '+00:00'");
    await s.exec('SET SESSION wait_timeout = 2147483').catch(() => undefined);
  }

  #target(db: string): string {
    return this.#o.targetDatabase ?? db;
  }

  #table(db: string, table: string): TableState {
    const key = tableKey(db, table);
    let st = this.#tables.get(key);
    if (st === undefined) {
      st = { db, table, schemaSeen: false, created: false, dataAdded: 0, dataDone: 0, indexesQueued: false, done: false };
      this.#tables.set(key, st);
      if (!this.#views.has(key)) this.#progress.tablesTotal += 1;
    }
    return st;
  }

  /** Adds a file of the dump. Unknown and metadata files are accepted and ignored. */
  addFile(file: LoadFile): void {
    if (this.#ended) throw new Error('addFile after endOfFiles');
    if (this.#failure !== undefined) throw this.#failure;
    const info = classifyDumpFile(file.name);
    const skip = (): void => {
      if (this.#o.deleteAfterLoad === true) void unlink(file.path).catch(() => undefined);
    };
    if (info.kind === 'metadata' || info.kind === 'ignored') {
      skip();
      return;
    }
    if (info.kind === 'load-data') {
      this.#fail(new LoadError('E_UNSUPPORTED', 'LOAD DATA dumps (--format=LOAD_DATA or CSV) are not supported', { path: file.name }));
      return;
    }
    const db = info.db as string;
    if (this.#o.sourceDatabase !== undefined && db !== this.#o.sourceDatabase) {
      skip();
      return;
    }
    this.#databases.add(this.#target(db));
    this.#progress.files += 1;
    switch (info.kind) {
      case 'database':
        this.#dbTasksPending.set(db, (this.#dbTasksPending.get(db) ?? 0) + 1);
        this.#queue.push({ type: 'database', file, info });
        break;
      case 'table-schema':
      case 'sequence': {
        const st = this.#table(db, info.table as string);
        st.schemaSeen = true;
        this.#queue.push({ type: 'schema', file, info, key: tableKey(db, info.table as string) });
        break;
      }
      case 'data': {
        if (this.#o.noData === true) {
          this.#progress.files -= 1;
          skip();
          return;
        }
        const st = this.#table(db, info.table as string);
        st.dataAdded += 1;
        this.#queue.push({ type: 'data', file, info, key: tableKey(db, info.table as string) });
        break;
      }
      case 'view':
      case 'triggers':
      case 'post':
        if (info.kind === 'view') {
          this.#views.add(tableKey(db, info.table as string));
          const st = this.#tables.get(tableKey(db, info.table as string));
          // The view's placeholder table counted as a table until now.
          if (st !== undefined && st.dataAdded === 0) this.#progress.tablesTotal -= st.done ? 0 : 1;
        }
        if ((info.kind === 'triggers' && this.#o.skipTriggers === true) || (info.kind === 'post' && this.#o.skipPost === true)) {
          this.#progress.files -= 1;
          skip();
          return;
        }
        this.#post.push({ file, info });
        break;
    }
    this.#wake();
  }

  /** No more files will be added. */
  endOfFiles(): void {
    this.#ended = true;
    for (const [key, st] of this.#tables) this.#maybeIndexes(key, st);
    this.#wake();
  }

  /** Waits for all tasks, runs the post-data objects, closes the connections. */
  async finish(): Promise<LoadSummary> {
    if (!this.#ended) this.endOfFiles();
    try {
      await Promise.all(this.#workers);
      if (this.#failure !== undefined) throw this.#failure;
      const s = this.#sessions[0] as Session;
      const order = { view: 0, triggers: 1, post: 2 } as Record<string, number>;
      this.#post.sort((a, b) => (order[a.info.kind] ?? 9) - (order[b.info.kind] ?? 9));
      for (const p of this.#post) {
        if (this.#failure !== undefined) throw this.#failure;
        await this.#runSchemaFile(s, p.file, p.info, 'post');
        this.#progress.filesDone += 1;
        this.#done(p.file);
      }
      this.#report();
      return {
        databases: this.#databases.size,
        tables: [...this.#tables.keys()].filter((k) => !this.#views.has(k)).length,
        views: this.#views.size,
        files: this.#progress.filesDone,
        rows: this.#progress.rows,
        bytes: this.#progress.bytes,
        statements: this.#statements,
        seconds: (performance.now() - this.#t0) / 1000,
      };
    } catch (err) {
      throw this.#failure ?? err;
    } finally {
      if (this.#ticker !== undefined) clearInterval(this.#ticker);
      this.#o.signal?.removeEventListener('abort', this.#onAbort);
      await Promise.all(this.#sessions.map((s) => s.close().catch(() => undefined)));
    }
  }

  /** Stops the load (for example when the stream feeding it fails). */
  abort(err: unknown): void {
    this.#fail(err);
    for (const s of this.#sessions) s.destroy();
  }

  get failure(): unknown {
    return this.#failure;
  }

  #fail(err: unknown): void {
    this.#failure ??= err;
    this.#wake();
  }

  #wake(): void {
    const w = this.#wakers;
    this.#wakers = [];
    for (const fn of w) fn();
  }

  #report(): void {
    this.#progress.elapsedMs = performance.now() - this.#t0;
    this.#o.onProgress?.({ ...this.#progress });
  }

  #ready(task: Task): boolean {
    switch (task.type) {
      case 'database':
        return true;
      case 'schema': {
        const db = task.info.db as string;
        return (this.#dbTasksPending.get(db) ?? 0) === 0;
      }
      case 'data': {
        const st = this.#tables.get(task.key) as TableState;
        return st.created || (!st.schemaSeen && this.#ended);
      }
      case 'indexes':
        return true;
    }
  }

  #pick(): Task | undefined {
    let best = -1;
    let bestRank = Infinity;
    let bestSize = -1;
    for (let i = 0; i < this.#queue.length; i++) {
      const t = this.#queue[i] as Task;
      const rank = t.type === 'database' ? 0 : t.type === 'schema' ? 1 : t.type === 'indexes' ? 2 : 3;
      if (rank > bestRank) continue;
      if (!this.#ready(t)) continue;
      const size = t.type === 'data' ? t.file.size : 0;
      if (rank < bestRank || size > bestSize) {
        best = i;
        bestRank = rank;
        bestSize = size;
      }
    }
    if (best < 0) return undefined;
    return this.#queue.splice(best, 1)[0];
  }

  async #work(s: Session): Promise<void> {
    for (;;) {
      if (this.#failure !== undefined) return;
      const task = this.#pick();
      if (task === undefined) {
        if (this.#ended && this.#running === 0 && this.#queue.length === 0) {
          this.#wake();
          return;
        }
        if (this.#ended && this.#running === 0 && this.#queue.length > 0) {
          // Nothing can become ready any more: a schema waits for a database file that failed to load.
          this.#fail(new LoadError('E_STUCK', `${this.#queue.length} file(s) could not be scheduled`));
          return;
        }
        await new Promise<void>((resolve) => this.#wakers.push(resolve));
        continue;
      }
      this.#running += 1;
      try {
        await this.#run(s, task);
      } catch (err) {
        this.#fail(err);
        for (const other of this.#sessions) if (other !== s) other.destroy();
      } finally {
        this.#running -= 1;
        this.#wake();
      }
    }
  }

  async #run(s: Session, task: Task): Promise<void> {
    switch (task.type) {
      case 'database': {
        await this.#runDatabase(s, task.file, task.info);
        const db = task.info.db as string;
        this.#dbTasksPending.set(db, (this.#dbTasksPending.get(db) ?? 1) - 1);
        this.#progress.filesDone += 1;
        this.#done(task.file);
        return;
      }
      case 'schema': {
        const st = this.#tables.get(task.key) as TableState;
        await this.#ensureDatabase(s, st.db);
        await this.#runSchemaFile(s, task.file, task.info, 'schema', st);
        st.created = true;
        this.#progress.filesDone += 1;
        this.#done(task.file);
        this.#maybeIndexes(task.key, st);
        return;
      }
      case 'data': {
        const st = this.#tables.get(task.key) as TableState;
        await this.#runDataFile(s, task.file, task.info, st);
        st.dataDone += 1;
        this.#progress.filesDone += 1;
        this.#done(task.file);
        this.#maybeIndexes(task.key, st);
        return;
      }
      case 'indexes': {
        const st = this.#tables.get(task.key) as TableState;
        // The key definitions come from the file (latin1 form); the names are text.
        const sql = addIndexesStatement(`${latin1Ident(this.#target(st.db))}.${latin1Ident(st.table)}`, st.deferred ?? []);
        try {
          await s.exec(sql, true);
        } catch (err) {
          throw new LoadError('E_LOAD', `adding the deferred indexes of ${st.db}.${st.table}: ${(err as Error).message}`, {}, { cause: err });
        }
        st.done = true;
        this.#progress.tablesDone += 1;
        return;
      }
    }
  }

  #done(file: LoadFile): void {
    if (this.#o.deleteAfterLoad === true) void unlink(file.path).catch(() => undefined);
  }

  /** Queues the deferred indexes (or counts the table as done) once all of its data is in. */
  #maybeIndexes(key: string, st: TableState): void {
    if (!this.#ended || st.done || st.indexesQueued) return;
    if (st.dataDone < st.dataAdded || (st.schemaSeen && !st.created)) return;
    if (st.deferred !== undefined && st.deferred.length > 0) {
      st.indexesQueued = true;
      this.#queue.push({ type: 'indexes', key });
      this.#wake();
    } else {
      st.done = true;
      if (!this.#views.has(key)) this.#progress.tablesDone += 1;
    }
  }

  readonly #ensured = new Set<string>();
  async #ensureDatabase(s: Session, db: string): Promise<void> {
    const target = this.#target(db);
    if (this.#dbsReady.has(target) || this.#ensured.has(target)) return;
    this.#ensured.add(target);
    await s.exec(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(target)}`); // text: converted to UTF-8 bytes
  }

  async #runDatabase(s: Session, file: LoadFile, info: DumpFileName): Promise<void> {
    const text = await readWhole(file, info);
    const target = this.#target(info.db as string);
    const statements = schemaStatements(text);
    for (const st of statements) {
      let sql = st.sql;
      const m = /^CREATE\s+DATABASE\s+(IF\s+NOT\s+EXISTS\s+)?(`(?:[^`]|``)+`|\S+)/i.exec(sql);
      if (m !== null) sql = `CREATE DATABASE IF NOT EXISTS ${latin1Ident(target)}${sql.slice(m[0].length)}`;
      await this.#exec(s, sql, file, st);
    }
    this.#dbsReady.add(target);
  }

  async #runSchemaFile(
    s: Session,
    file: LoadFile,
    info: DumpFileName,
    phase: 'schema' | 'post',
    st?: TableState,
  ): Promise<void> {
    const text = await readWhole(file, info);
    const target = this.#target(info.db as string);
    await this.#exec(s, `USE ${latin1Ident(target)}`, file, { sql: 'USE', index: 0 });
    if (phase === 'schema' && this.#o.overwriteTables === true && info.table !== undefined) {
      await this.#dropExisting(s, target, info.table, file);
    }
    for (const stmt of schemaStatements(text)) {
      let sql = stmt.sql;
      // SHOW CREATE TABLE returns UTF-8 text whatever the result character set, but mydumper writes
      // it under SET NAMES binary, which turns a non-ASCII default or comment into mojibake
      // ('é' in a latin1 column becomes 'Ã©'). Table schemas are therefore read as utf8mb4.
      if (phase === 'schema' && /^(\/\*!\d*\s*)?SET\s+NAMES\s+binary\s*(\*\/)?\s*;?$/i.test(sql)) sql = 'SET NAMES utf8mb4';
      if (phase === 'schema' && st !== undefined && this.#o.deferIndexes === true && /^CREATE\s+TABLE\b/i.test(sql)) {
        const d = deferSecondaryIndexes(sql);
        if (d !== undefined) {
          sql = d.create;
          st.deferred = d.keys;
        }
      }
      await this.#exec(s, sql, file, stmt);
    }
  }

  async #dropExisting(s: Session, db: string, table: string, file: LoadFile): Promise<void> {
    const rows = await s.query<Record<string, unknown>>(
      `SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${latin1String(db)} AND TABLE_NAME = ${latin1String(table)}`,
      undefined,
      true,
    );
    if (rows.length === 0) return;
    const type = Buffer.isBuffer(rows[0]?.TABLE_TYPE) ? (rows[0]?.TABLE_TYPE as Buffer).toString() : String(rows[0]?.TABLE_TYPE);
    const what = type === 'VIEW' ? 'VIEW' : type === 'SEQUENCE' ? 'SEQUENCE' : 'TABLE';
    await this.#exec(s, `DROP ${what} IF EXISTS ${latin1Ident(db)}.${latin1Ident(table)}`, file, { sql: 'DROP', index: 0 });
  }

  async #runDataFile(s: Session, file: LoadFile, info: DumpFileName, st: TableState): Promise<void> {
    const target = this.#target(info.db as string);
    const perTrx = this.#o.queriesPerTransaction ?? 1000;
    await this.#exec(s, `USE ${latin1Ident(target)}`, file, { sql: 'USE', index: 0 });
    const statements = new ReplayableStatements(() => openDataFile(file, info));
    try {
      for (let stmt = await statements.next(); stmt !== undefined; stmt = await statements.next()) {
        if (this.#failure !== undefined) throw this.#failure;
        if (!isInsert(stmt.bytes)) {
          await this.#runStatement(s, stmt, file, false);
          continue;
        }
        if (st.primed === undefined) {
          // MariaDB ≥ 10.6 switches a transaction that starts inserting into an EMPTY table with
          // unique and foreign key checks off into "bulk insert" mode: it locks the whole table
          // until commit (so parallel loaders of one table wait, and can time out) and sorts
          // everything at commit (measured slower here than plain inserts). The first statement
          // of each table therefore runs on its own (autocommit); transactions then find the
          // table non-empty and insert normally, in parallel.
          let release: () => void = () => undefined;
          st.primed = new Promise<void>((resolve) => {
            release = resolve;
          });
          try {
            await this.#runStatement(s, stmt, file, true);
          } finally {
            release();
          }
          continue;
        }
        await st.primed;
        if (perTrx > 0) await this.#runTransaction(s, statements, stmt, perTrx, file);
        else await this.#runStatement(s, stmt, file, true);
      }
    } catch (err) {
      if (err instanceof SluiceError) throw err;
      throw new LoadError('E_READ', `reading ${file.name}: ${(err as Error).message}`, { path: file.name }, { cause: err });
    } finally {
      await statements.close().catch(() => undefined);
    }
  }

  /** One statement on its own (autocommit): a lock error rolled all of it back, so it is simply run again. */
  async #runStatement(s: Session, stmt: StatementBytes, file: LoadFile, insert: boolean): Promise<void> {
    this.#progress.bytes += stmt.bytes.length + 1;
    await withLockRetry(
      DATA_LOCK_RETRY,
      async () => {
        const rows = await this.#execBytes(s, stmt.bytes, file, stmt.index);
        if (insert) this.#progress.rows += rows;
      },
      this.#lockRetryHooks(file, () => ({ first: stmt.index, at: stmt.index, transaction: false })),
    );
  }

  /**
   * One transaction: the statements from `head` up to `perTrx` inserts or the end of the file. After
   * a lock error it is rolled back and replayed from `head`, read again from the file, so every row
   * goes in exactly once.
   */
  async #runTransaction(s: Session, statements: ReplayableStatements, head: StatementBytes, perTrx: number, file: LoadFile): Promise<void> {
    const first = head.index;
    let at = first;
    await withLockRetry(
      DATA_LOCK_RETRY,
      async (attempt) => {
        let stmt = attempt === 1 ? head : await statements.rewind(first);
        const undone = { rows: 0, bytes: 0, statements: 0 };
        try {
          await s.exec('START TRANSACTION');
          for (let inserts = 0; ; ) {
            if (this.#failure !== undefined) throw this.#failure;
            at = stmt.index;
            const insert = isInsert(stmt.bytes);
            this.#progress.bytes += stmt.bytes.length + 1;
            undone.bytes += stmt.bytes.length + 1;
            const rows = await this.#execBytes(s, stmt.bytes, file, stmt.index);
            undone.statements += 1;
            if (insert) {
              this.#progress.rows += rows;
              undone.rows += rows;
              inserts += 1;
              if (inserts >= perTrx) break;
            }
            const next = await statements.next();
            if (next === undefined) break;
            stmt = next;
          }
          await s.exec('COMMIT');
        } catch (err) {
          this.#progress.rows -= undone.rows;
          this.#progress.bytes -= undone.bytes;
          this.#statements -= undone.statements;
          throw err;
        }
      },
      this.#lockRetryHooks(file, () => ({ first, at, transaction: true }), () => s.exec('ROLLBACK')),
    );
  }

  #lockRetryHooks(
    file: LoadFile,
    position: () => { first: number; at: number; transaction: boolean },
    undo?: () => Promise<unknown>,
  ): RetryHooks {
    const what = (p: { first: number; at: number; transaction: boolean }): string =>
      p.transaction ? `the transaction from statement ${p.first}` : 'the statement';
    return {
      ...(undo === undefined ? {} : { undo }),
      stopped: () => this.#failure !== undefined,
      onRetry: (e) => {
        const p = position();
        this.#o.onWarning?.(
          `${e.kind} loading file "${file.name}" at statement ${p.at}: ${what(p)} was rolled back; ` +
            `replaying it in ${e.delayMs} ms (attempt ${e.failed + 1} of ${e.attempts})`,
        );
      },
      exhausted: (err, kind, attempts) => {
        const p = position();
        return new LoadError(
          'E_LOCK_RETRIES',
          `loading file "${file.name}", statement ${p.at}: ${kind} on all ${attempts} attempts, giving up ` +
            `(${what(p)} was rolled back): ${serverMessage(err)}`,
          { path: file.name },
          { cause: err },
        );
      },
    };
  }

  async #execBytes(s: Session, bytes: Buffer, file: LoadFile, index: number): Promise<number> {
    try {
      const rows = await s.execBytes(bytes);
      this.#statements += 1;
      return rows;
    } catch (err) {
      throw this.#statementError(err, bytes.toString('latin1', 0, Math.min(bytes.length, 200)), file, index);
    }
  }

  #statementError(err: unknown, sql: string, file: LoadFile, index: number): unknown {
    if (this.#failure !== undefined) return this.#failure;
    const preview = sql.length > 120 ? `${sql.slice(0, 120)}…` : sql;
    return new LoadError(
      'E_LOAD',
      `loading file "${file.name}", statement ${index}: ${(err as Error).message.replace(/ \(while [\s\S]*\)$/, '')}` +
        ` — ${JSON.stringify(Buffer.from(preview, 'latin1').toString('utf8'))}`,
      { path: file.name },
      { cause: err },
    );
  }

  /** Schema statements, retried in place after a lock error (DDL commits on its own). */
  async #exec(s: Session, sql: string, file: LoadFile, stmt: Statement): Promise<number> {
    this.#statements += 1;
    return withLockRetry(
      SCHEMA_LOCK_RETRY,
      async () => {
        try {
          return await s.exec(sql, true);
        } catch (err) {
          throw this.#statementError(err, sql, file, stmt.index);
        }
      },
      { stopped: () => this.#failure !== undefined },
    );
  }

}

function isInsert(bytes: Buffer): boolean {
  return /^\s*(INSERT|REPLACE)\b/i.test(bytes.toString('latin1', 0, Math.min(64, bytes.length)));
}

/** The server's own words for an error wrapped on its way up. */
function serverMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown };
  while (typeof e.cause === 'object' && e.cause !== null) e = e.cause as { message?: string; cause?: unknown };
  return e.message ?? String(err);
}

function openDataFile(file: LoadFile, info: DumpFileName): ChunkSource {
  if (info.compression === undefined) return { chunks: readChunks(file.path), close: () => undefined };
  const raw = createReadStream(file.path, { highWaterMark: 1 << 20 });
  const out = decompressed(raw, info);
  return {
    chunks: out as AsyncIterable<Buffer>,
    close: () => {
      raw.destroy();
      out.destroy();
    },
  };
}

/** A file's bytes in 1 MiB pieces read into one reused buffer (each valid until the next is asked for). */
async function* readChunks(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

function decompressed(raw: Readable, info: DumpFileName): Readable {
  if (info.compression === 'gzip') return raw.pipe(createGunzip({ chunkSize: 1 << 20 }));
  if (info.compression === 'zstd') return raw.pipe(new DecompressStream());
  return raw;
}

async function readWhole(file: LoadFile, info: DumpFileName): Promise<string> {
  if (info.compression === undefined) return (await readFile(file.path)).toString('latin1');
  const parts: Buffer[] = [];
  for await (const b of decompressed(createReadStream(file.path), info)) parts.push(b as Buffer);
  return Buffer.concat(parts).toString('latin1');
}

/** Names become latin1 strings like the file text (the connection is `binary`: bytes go out as they are). */
function latin1Ident(name: string): string {
  return Buffer.from(quoteIdent(name), 'utf8').toString('latin1');
}

function latin1String(value: string): string {
  return Buffer.from(quoteString(value), 'utf8').toString('latin1');
}
