/**
 * mariabackup's copy of the redo log (`ib_logfile0` in MariaDB 10.5+, `xtrabackup_logfile` in Percona),
 * by any name sluice's codecs give it (`ib_logfile0.zst.age`). It is written from the start of the backup
 * to its end, interleaved with the data files whenever the server is writing.
 */
export function isRedoLogCopy(path: string): boolean {
  return /^(ib_logfile0|xtrabackup_logfile)(\.|$)/.test(path);
}
