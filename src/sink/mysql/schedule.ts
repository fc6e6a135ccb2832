/**
 * The order of a load. Files become tasks, each gated by what it depends on:
 *   database  CREATE DATABASE (renamed with --database)                         first
 *   schema    CREATE TABLE, after its database                                  then
 *   data      INSERT statements, as soon as the table exists; largest first     in parallel
 *   indexes   deferred secondary keys (--defer-indexes), once all of a table's data is in
 * A data file whose table has no schema file is ready once the list of files is complete (the table
 * must already exist: a --no-schemas dump). Post-data objects are not tasks: the loader runs them last.
 */
import { type DatabaseDumpFile, tableKey, type TableDumpFile } from '../../container/mydumper-stream/layout.js';
import type { TablePriming } from './data-file.js';
import type { LoadFile } from './load-options.js';

export type Task =
  | { type: 'database'; file: LoadFile; info: DatabaseDumpFile }
  | { type: 'schema'; file: LoadFile; info: TableDumpFile; key: string }
  | { type: 'data'; file: LoadFile; info: TableDumpFile; key: string }
  | { type: 'indexes'; key: string };

export interface TableState extends TablePriming {
  db: string;
  table: string;
  schemaSeen: boolean;
  created: boolean;
  dataAdded: number;
  dataDone: number;
  deferred?: string[];
  indexesQueued: boolean;
  done: boolean;
}

const RANK: Record<Task['type'], number> = { database: 0, schema: 1, indexes: 2, data: 3 };

export class LoadSchedule {
  readonly tables = new Map<string, TableState>();
  readonly #dbTasksPending = new Map<string, number>();
  readonly #queue: Task[] = [];
  /** No more files will be added. */
  ended = false;

  constructor(
    /** Told when a table is first seen. */
    readonly onNewTable: (key: string) => void,
    /** Told when a table has all its data and indexes. */
    readonly onTableDone: (key: string) => void,
  ) {}

  get queued(): number {
    return this.#queue.length;
  }

  table(db: string, table: string): TableState {
    const key = tableKey(db, table);
    let st = this.tables.get(key);
    if (st === undefined) {
      st = { db, table, schemaSeen: false, created: false, dataAdded: 0, dataDone: 0, indexesQueued: false, done: false };
      this.tables.set(key, st);
      this.onNewTable(key);
    }
    return st;
  }

  addDatabase(file: LoadFile, info: DatabaseDumpFile): void {
    this.#dbTasksPending.set(info.db, (this.#dbTasksPending.get(info.db) ?? 0) + 1);
    this.#queue.push({ type: 'database', file, info });
  }

  addSchema(file: LoadFile, info: TableDumpFile): void {
    this.table(info.db, info.table).schemaSeen = true;
    this.#queue.push({ type: 'schema', file, info, key: tableKey(info.db, info.table) });
  }

  addData(file: LoadFile, info: TableDumpFile): void {
    this.table(info.db, info.table).dataAdded += 1;
    this.#queue.push({ type: 'data', file, info, key: tableKey(info.db, info.table) });
  }

  databaseLoaded(db: string): void {
    this.#dbTasksPending.set(db, (this.#dbTasksPending.get(db) ?? 1) - 1);
  }

  /** The ready task to run next (databases, then schemas, indexes, and data largest first), taken off the queue. */
  pick(): Task | undefined {
    let best = -1;
    let bestRank = Infinity;
    let bestSize = -1;
    for (let i = 0; i < this.#queue.length; i++) {
      const t = this.#queue[i] as Task;
      const rank = RANK[t.type];
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

  #ready(task: Task): boolean {
    switch (task.type) {
      case 'database':
      case 'indexes':
        return true;
      case 'schema':
        return (this.#dbTasksPending.get(task.info.db) ?? 0) === 0;
      case 'data': {
        const st = this.tables.get(task.key) as TableState;
        return st.created || (!st.schemaSeen && this.ended);
      }
    }
  }

  /** Queues the deferred indexes (or marks the table done) once all of its data is in; true if a task was queued. */
  maybeIndexes(key: string, st: TableState): boolean {
    if (!this.ended || st.done || st.indexesQueued) return false;
    if (st.dataDone < st.dataAdded || (st.schemaSeen && !st.created)) return false;
    if (st.deferred !== undefined && st.deferred.length > 0) {
      st.indexesQueued = true;
      this.#queue.push({ type: 'indexes', key });
      return true;
    }
    st.done = true;
    this.onTableDone(key);
    return false;
  }

  /** Marks every table whose data is complete (called when the list of files ends). */
  endOfFiles(): boolean {
    this.ended = true;
    let queued = false;
    for (const [key, st] of this.tables) queued = this.maybeIndexes(key, st) || queued;
    return queued;
  }
}
