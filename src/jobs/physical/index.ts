/**
 * The physical-backup jobs: hot backups of a running MariaDB (mariabackup) or PostgreSQL (pg_basebackup)
 * server as a stream or as a repository snapshot, and the way back: restore a snapshot's chain into a data
 * directory, stream its members again, prepare and copy back an extracted backup, unpack a PostgreSQL tar.
 */
export { backupMariadb, type BackupMariadbOptions, type BackupMariadbResult, backupPostgres, type BackupPostgresOptions } from './backup.js';
export { type CatPhysicalOptions, catPhysical } from './emit.js';
export type { Engine, PhysicalMetadata } from './metadata.js';
export { type Checkpoints, copyBack, type CopyBackOptions, type MariabackupRun, prepareBackup, type PrepareBackupOptions, type PrepareBackupResult, restorePgdata, type RestorePgdataOptions, type RestorePgdataResult } from './prepare.js';
export { type PhysicalRestoreResult, restorePhysical, type RestorePhysicalOptions, type RestorePhysicalResult } from './restore.js';
export { physicalSnapshot, type PhysicalSnapshotOptions, type PhysicalSnapshotResult } from './snapshot.js';
