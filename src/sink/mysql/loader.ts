/**
 * The loader: replays a mydumper-layout dump into a server with N connections.
 *
 * Files are added one by one (all at once for a directory, as they arrive for a stream) and become
 * tasks in the schedule (schedule.ts: database → schema → data → deferred indexes); views, triggers,
 * routines and events run after everything else, on one connection. The pieces:
 *   load-sessions.ts      the connections and their session settings
 *   schedule.ts           which task may run next
 *   schema-files.ts       database, table and post-data files
 *   data-file.ts          a data file's statements, in transactions
 *   statement-runner.ts   errors naming file and statement; lock retries (retry.ts)
 *   sql-rewrite.ts        the statements' changes (database renamed, character set, quoting)
 *   dump-file-reading.ts  file bytes, decompressed
 * Any failing statement stops the load: the error names the file and the statement number.
 */
import { unlink } from 'node:fs/promises';
import { classifyDumpFile, type DatabaseDumpFile, isObjectFile, tableKey, type TableDumpFile } from '../../container/mydumper-stream/layout.js';
import { SluiceError } from '../../errors.js';
import { quoteIdent, type Session } from '../../mysql/connection.js';
import { loadDataFile } from './data-file.js';
import { addIndexesStatement } from './indexes.js';
import { LoadError, type LoadFile, type LoadOptions, type LoadProgress, type LoadSummary } from './load-options.js';
import { openLoadSessions } from './load-sessions.js';
import { LoadSchedule, type Task, type TableState } from './schedule.js';
import { loadDatabaseFile, loadPostFile, loadTableSchema } from './schema-files.js';
import { latin1Ident } from './sql-rewrite.js';
import { type LoadCounters, StatementRunner } from './statement-runner.js';

export { LoadError, type LoadFile, type LoadOptions, type LoadProgress, type LoadSummary } from './load-options.js';

const POST_ORDER: Record<string, number> = { view: 0, triggers: 1, post: 2 };

export class Loader {
  readonly #o: LoadOptions;
  #sessions: Session[] = [];
  readonly #schedule: LoadSchedule;
  readonly #runner: StatementRunner;
  readonly #dbsReady = new Set<string>();
  readonly #ensured = new Set<string>();
  readonly #post: { file: LoadFile; info: DatabaseDumpFile | TableDumpFile }[] = [];
  #running = 0;
  #failure: unknown;
  #wakers: (() => void)[] = [];
  #workers: Promise<void>[] = [];
  readonly #t0 = performance.now();
  readonly #progress: LoadProgress = { tablesTotal: 0, tablesDone: 0, files: 0, filesDone: 0, rows: 0, bytes: 0, elapsedMs: 0 };
  readonly #counters: LoadCounters = { rows: 0, bytes: 0, statements: 0 };
  readonly #databases = new Set<string>();
  readonly #views = new Set<string>();
  #ticker: NodeJS.Timeout | undefined;

  constructor(options: LoadOptions) {
    this.#o = options;
    this.#schedule = new LoadSchedule(
      (key) => {
        if (!this.#views.has(key)) this.#progress.tablesTotal += 1;
      },
      (key) => {
        if (!this.#views.has(key)) this.#progress.tablesDone += 1;
      },
    );
    this.#runner = new StatementRunner({
      counters: this.#counters,
      failure: () => this.#failure,
      ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    });
  }

  /** Connects and starts the workers; files can be added from then on. */
  async start(): Promise<void> {
    this.#sessions = await openLoadSessions(this.#o.connection, Math.max(1, this.#o.threads), {
      ...(this.#o.enableBinlog === undefined ? {} : { enableBinlog: this.#o.enableBinlog }),
      ...(this.#o.onWarning === undefined ? {} : { onWarning: this.#o.onWarning }),
    });
    this.#o.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#ticker = setInterval(() => this.#report(), 1000);
    this.#ticker.unref();
    this.#workers = this.#sessions.map((s) => this.#work(s));
  }

  readonly #onAbort = (): void => {
    this.#fail(new SluiceError('E_INTERRUPTED', 'load interrupted', {}, { exitCode: 130 }));
    for (const s of this.#sessions) s.destroy();
  };

  #target(db: string): string {
    return this.#o.targetDatabase ?? db;
  }

  /** Adds a file of the dump. Unknown and metadata files are accepted and ignored. */
  addFile(file: LoadFile): void {
    if (this.#schedule.ended) throw new Error('addFile after endOfFiles');
    if (this.#failure !== undefined) throw this.#failure;
    const info = classifyDumpFile(file.name);
    const skip = (): void => this.#done(file);
    if (!isObjectFile(info)) {
      skip();
      return;
    }
    if (info.kind === 'load-data') {
      this.#fail(new LoadError('E_UNSUPPORTED', 'LOAD DATA dumps (--format=LOAD_DATA or CSV) are not supported', { path: file.name }));
      return;
    }
    if (this.#o.sourceDatabase !== undefined && info.db !== this.#o.sourceDatabase) {
      skip();
      return;
    }
    this.#databases.add(this.#target(info.db));
    switch (info.kind) {
      case 'database':
        this.#schedule.addDatabase(file, info);
        break;
      case 'table-schema':
      case 'sequence':
        this.#schedule.addSchema(file, info);
        break;
      case 'data':
        if (this.#o.noData === true) {
          skip();
          return;
        }
        this.#schedule.addData(file, info);
        break;
      case 'view':
      case 'triggers':
      case 'post':
        if (info.kind === 'view') {
          const key = tableKey(info.db, info.table);
          this.#views.add(key);
          const st = this.#schedule.tables.get(key);
          // The view's placeholder table counted as a table until now.
          if (st !== undefined && st.dataAdded === 0) this.#progress.tablesTotal -= st.done ? 0 : 1;
        }
        if ((info.kind === 'triggers' && this.#o.skipTriggers === true) || (info.kind === 'post' && this.#o.skipPost === true)) {
          skip();
          return;
        }
        this.#post.push({ file, info });
        break;
    }
    this.#progress.files += 1;
    this.#wake();
  }

  /** No more files will be added. */
  endOfFiles(): void {
    this.#schedule.endOfFiles();
    this.#wake();
  }

  /** Waits for all tasks, runs the post-data objects, closes the connections. */
  async finish(): Promise<LoadSummary> {
    if (!this.#schedule.ended) this.endOfFiles();
    try {
      await Promise.all(this.#workers);
      if (this.#failure !== undefined) throw this.#failure;
      const s = this.#sessions[0] as Session;
      this.#post.sort((a, b) => (POST_ORDER[a.info.kind] ?? 9) - (POST_ORDER[b.info.kind] ?? 9));
      for (const p of this.#post) {
        if (this.#failure !== undefined) throw this.#failure;
        await loadPostFile(this.#runner, s, p.file, p.info, this.#target(p.info.db));
        this.#fileDone(p.file);
      }
      this.#report();
      return {
        databases: this.#databases.size,
        tables: [...this.#schedule.tables.keys()].filter((k) => !this.#views.has(k)).length,
        views: this.#views.size,
        files: this.#progress.filesDone,
        rows: this.#counters.rows,
        bytes: this.#counters.bytes,
        statements: this.#counters.statements,
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
    this.#progress.rows = this.#counters.rows;
    this.#progress.bytes = this.#counters.bytes;
    this.#o.onProgress?.({ ...this.#progress });
  }

  async #work(s: Session): Promise<void> {
    for (;;) {
      if (this.#failure !== undefined) return;
      const task = this.#schedule.pick();
      if (task === undefined) {
        const idle = this.#schedule.ended && this.#running === 0;
        if (idle && this.#schedule.queued === 0) {
          this.#wake();
          return;
        }
        if (idle) {
          // Nothing can become ready any more: a schema waits for a database file that failed to load.
          this.#fail(new LoadError('E_STUCK', `${this.#schedule.queued} file(s) could not be scheduled`));
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
        const target = this.#target(task.info.db);
        await loadDatabaseFile(this.#runner, s, task.file, task.info, target);
        this.#dbsReady.add(target);
        this.#schedule.databaseLoaded(task.info.db);
        this.#fileDone(task.file);
        return;
      }
      case 'schema': {
        const st = this.#schedule.tables.get(task.key) as TableState;
        await this.#ensureDatabase(s, st.db);
        const deferred = await loadTableSchema(this.#runner, s, task.file, task.info, this.#target(st.db), {
          overwrite: this.#o.overwriteTables === true,
          deferIndexes: this.#o.deferIndexes === true,
        });
        if (deferred !== undefined) st.deferred = deferred;
        st.created = true;
        this.#fileDone(task.file);
        this.#tableProgressed(task.key, st);
        return;
      }
      case 'data': {
        const st = this.#schedule.tables.get(task.key) as TableState;
        await loadDataFile(
          this.#runner,
          s,
          { file: task.file, info: task.info, targetDb: this.#target(st.db), table: st, perTransaction: this.#o.queriesPerTransaction ?? 1000 },
          () => this.#failure,
        );
        st.dataDone += 1;
        this.#fileDone(task.file);
        this.#tableProgressed(task.key, st);
        return;
      }
      case 'indexes': {
        const st = this.#schedule.tables.get(task.key) as TableState;
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

  #tableProgressed(key: string, st: TableState): void {
    if (this.#schedule.maybeIndexes(key, st)) this.#wake();
  }

  #fileDone(file: LoadFile): void {
    this.#progress.filesDone += 1;
    this.#done(file);
  }

  /** A file the load is finished with: deleted in the stream modes that delete. */
  #done(file: LoadFile): void {
    if (this.#o.deleteAfterLoad === true) void unlink(file.path).catch(() => undefined);
  }

  async #ensureDatabase(s: Session, db: string): Promise<void> {
    const target = this.#target(db);
    if (this.#dbsReady.has(target) || this.#ensured.has(target)) return;
    this.#ensured.add(target);
    await s.exec(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(target)}`); // text: converted to UTF-8 bytes
  }
}
