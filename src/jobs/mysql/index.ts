/** The MySQL/MariaDB jobs: a consistent parallel logical dump, and loading one from a directory or a stream. */
export { dump, type DumpOptions, type DumpProgress, type DumpSummary, type LockMode } from './dump.js';
export { load, type LoadDirectoryOptions, type LoadOptions, type LoadProgress, type LoadSummary } from './load.js';
export { loadStream, type LoadStreamOptions } from './load-stream.js';
export type { ConnectOptions } from '../../mysql/connection.js';
export { parseStreamMode, STREAM_MODES, type StreamMode } from './stream-mode.js';
