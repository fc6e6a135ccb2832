/** Types of what the repository jobs return, defined by the repository layer. */
export type { CheckReport, ReadDataSelection } from '../../repo/maintenance/check.js';
export type { CopyReport } from '../../repo/maintenance/copy.js';
export type { GroupBy, KeepPolicy } from '../../repo/maintenance/forget.js';
export type { PruneReport } from '../../repo/maintenance/prune.js';
export type { LockInfo } from '../../repo/lock.js';
export type { Repository } from '../../repo/repository.js';
export type { ArchiveProgress } from '../../repo/snapshot/archiver.js';
export type { DiffItem } from '../../repo/snapshot/diff.js';
export type { Snapshot, SnapshotRef, SnapshotSummary } from '../../repo/snapshot/snapshots.js';
export type { FileNode, TreeNode } from '../../repo/snapshot/tree.js';
