/**
 * sluice as a library: one function per job. Each takes typed options, reports progress and warnings
 * through callbacks, stops on an AbortSignal, and never touches the process's terminal or environment.
 * Errors are SluiceError subclasses with a `code` and an `exitCode`.
 */

// Errors
export { ExitCode, FormatError, IntegrityError, SluiceError, UnsafePathError, UsageError } from './jobs/errors.js';

// Repository: opening and creating
export { type ClientOptions, type LockMode, type OpenedRepository, openRepository, type OpenRepositoryOptions, type PasswordSource, type StoreOptions } from './jobs/repository/open.js';
export { initRepository, type InitRepositoryOptions, type InitRepositoryResult } from './jobs/repository/init.js';

// Repository: writing snapshots
export { prestartSnapshotWorkers, readFdOnThread, snapshot, type SnapshotOptions, type SnapshotResult, type SnapshotStream, streamName } from './jobs/repository/snapshot.js';

// Repository: reading
export { diff, type DiffCounts, type DiffResult, listSnapshots, type ListSnapshotsOptions, listTree, type ListTreeOptions, type ListTreeResult, type OpenedFile, openFile, type OpenFileOptions, openStream, type TreeItem } from './jobs/repository/browse.js';
export { restore, type RestoreOptions, type RestoreResult } from './jobs/repository/restore.js';
export { type ResolvedRef, resolveRef, shortId, splitRef } from './jobs/repository/ref.js';
export { catFile, type CatFileOptions } from './jobs/repository/cat.js';
export { type EntryKind, type FindMatch, type FindQuery, findInSnapshots, type HistoryQuery, historyOf, matchJson, parseKinds, parseTimeBound, type PathVersion, type SnapshotQuery, type VersionChange } from './jobs/repository/query.js';

// Repository: maintenance
export { check, type CheckOptions, checkFailure, checkForgetRequest, forget, type ForgetOptions, type ForgetPlan, type ForgetResult, prune, type PruneOptions } from './jobs/repository/maintenance.js';
export { copySnapshots, type CopySnapshotsOptions } from './jobs/repository/copy.js';
export { unlock } from './jobs/repository/unlock.js';

// Repository: passwords
export { addKey, changePassword, type KeyListing, listKeys, removeKey } from './jobs/repository/keys.js';

// Repository: types of the results
export type { ArchiveProgress, CheckReport, CopyReport, DiffItem, FileNode, GroupBy, KeepPolicy, LockInfo, PruneReport, ReadDataSelection, Repository, Snapshot, SnapshotRef, SnapshotSummary, TreeNode } from './jobs/repository/types.js';

// Stream backups: a tree as an xbstream or tar stream, extraction, listing, verification, decoding in place
export { type ApplySummary, type BackupStreamOptions, type BackupStreamResult, backupStream, createDecoder, createXbstream, type CreateXbstreamOptions, type CreateXbstreamResult, decodeInPlace, type DecodeInPlaceOptions, type Decoder, type DecodeOptions, type EncodeChainOptions, extractStream, type ExtractStreamOptions, type InPlaceFile, type InPlaceSummary, listStream, type ListStreamOptions, type OnReport, type SentStream, type StreamFormat, type StreamOutput, type StreamProgress, type VerifiedFile, verifyStream, type VerifyStreamOptions, type VerifyStreamResult } from './jobs/stream/index.js';

// Physical backups of a running server (mariabackup, pg_basebackup): as a stream or a snapshot, and back into a data directory
export { backupMariadb, type BackupMariadbOptions, type BackupMariadbResult, backupPostgres, type BackupPostgresOptions, type CatPhysicalOptions, catPhysical, type Checkpoints, copyBack, type CopyBackOptions, type Engine, type MariabackupRun, type PhysicalMetadata, type PhysicalRestoreResult, physicalSnapshot, type PhysicalSnapshotOptions, type PhysicalSnapshotResult, prepareBackup, type PrepareBackupOptions, type PrepareBackupResult, restorePgdata, type RestorePgdataOptions, type RestorePgdataResult, restorePhysical, type RestorePhysicalOptions, type RestorePhysicalResult } from './jobs/physical/index.js';

// MySQL / MariaDB: consistent parallel logical dumps in mydumper's layout, and loading them
export { type ConnectOptions, dump, type LockMode as DumpLockMode, type DumpOptions, type DumpProgress, type DumpSummary, load, type LoadDirectoryOptions, type LoadOptions, type LoadProgress, loadStream, type LoadStreamOptions, type LoadSummary, parseStreamMode, STREAM_MODES, type StreamMode } from './jobs/mysql/index.js';
