/** What a load is asked to do and what it reports: the loader's options, progress, summary and files. */
import type { ConnectOptions } from '../../mysql/connection.js';
import { SluiceError } from '../../errors.js';

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

/** A file of the dump, where it is now. */
export interface LoadFile {
  name: string;
  path: string;
  size: number;
}

export class LoadError extends SluiceError {}
