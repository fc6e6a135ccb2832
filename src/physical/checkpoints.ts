/**
 * `xtrabackup_checkpoints`, the file mariabackup/xtrabackup write beside a backup: its type (full or
 * incremental, and whether it has been prepared) and the LSN range it covers. `key = value` lines.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../errors.js';

export const CHECKPOINTS_FILE = 'xtrabackup_checkpoints';
/** The real file is about 100 bytes; anything much larger is not one. */
const MAX_CHECKPOINTS_BYTES = 64 << 10;

export interface Checkpoints {
  /** full-backuped, incremental, log-applied, full-prepared, ... */
  backupType: string;
  fromLsn: bigint;
  toLsn: bigint;
  lastLsn?: bigint;
  /** Every key as written. */
  fields: Record<string, string>;
}

export function parseCheckpoints(text: string, file = CHECKPOINTS_FILE): Checkpoints {
  const fields: Record<string, string> = {};
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const at = line.indexOf('=');
    if (at < 0) throw new FormatError('E_CHECKPOINTS', `line ${i + 1} is not "key = value"`, { path: file });
    fields[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  const lsn = (key: string): bigint => {
    const value = fields[key];
    if (value === undefined || !/^\d{1,20}$/.test(value)) {
      throw new FormatError('E_CHECKPOINTS', `${key} is ${value === undefined ? 'missing' : `not a number: ${JSON.stringify(value)}`}`, { path: file });
    }
    return BigInt(value);
  };
  const backupType = fields.backup_type;
  if (backupType === undefined || backupType === '') throw new FormatError('E_CHECKPOINTS', 'backup_type is missing', { path: file });
  return {
    backupType,
    fromLsn: lsn('from_lsn'),
    toLsn: lsn('to_lsn'),
    ...(fields.last_lsn === undefined ? {} : { lastLsn: lsn('last_lsn') }),
    fields,
  };
}

/** Reads DIR/xtrabackup_checkpoints; undefined when there is none. */
export async function readCheckpoints(dir: string): Promise<Checkpoints | undefined> {
  const path = join(dir, CHECKPOINTS_FILE);
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new FormatError('E_CHECKPOINTS', 'is not a regular file', { path });
    size = st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (size > MAX_CHECKPOINTS_BYTES) throw new FormatError('E_CHECKPOINTS', `is ${size} bytes, more than a checkpoints file can be`, { path });
  return parseCheckpoints(await readFile(path, 'utf8'), path);
}
