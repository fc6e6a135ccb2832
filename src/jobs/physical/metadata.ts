/**
 * What a physical snapshot records about itself: a small JSON file at `/physical.json` in the snapshot,
 * beside the member files under `/mariadb` or `/postgres`. Being a file of the snapshot (not a field of
 * the snapshot object) it needs no change to the repository format, `copy` and `forget` keep it as they
 * keep any file, and `sluice cat SNAPSHOT:/physical.json` shows it.
 */
import { toSafePath } from '../../entry.js';
import { FormatError } from '../../errors.js';
import { parseCheckpoints } from '../../physical/checkpoints.js';
import type { Repository } from '../../repo/repository.js';
import { readFile } from '../../repo/snapshot/stored-file-reader.js';
import type { SnapshotRef } from '../../repo/snapshot/snapshots.js';
import { findNode } from '../../repo/snapshot/walker.js';
import type { CryptoPool } from '../../repo/workers/crypto-pool.js';

export const METADATA_FILE = 'physical.json';
const MAX_METADATA_BYTES = 1 << 20;

export type Engine = 'mariadb' | 'postgres';

export interface PhysicalMetadata {
  format: 'sluice-physical';
  version: 1;
  engine: Engine;
  /** The directory of the snapshot that holds the member files (`mariadb`, `postgres`). */
  root: string;
  /** The server backed up: `host:port`, or `socket:PATH`; incrementals follow backups of the same one. */
  server: string;
  serverVersion?: string;
  tool: string;
  toolVersion?: string;
  /** mariabackup: `full-backuped` or `incremental`; PostgreSQL: `full`. */
  backupType: string;
  fromLsn?: string;
  toLsn?: string;
  lastLsn?: string;
  binlog?: { file?: string; position?: string; gtid?: string };
  /** PostgreSQL: from backup_label. */
  startWal?: string;
  checkpoint?: string;
  /** For an incremental: the snapshot (full id) whose to_lsn it starts from. */
  base?: string;
  /** Member files in the order the stream sent them. */
  members: number;
  arguments: string[];
}

export function engineRoot(engine: Engine): string {
  return engine;
}

export function encodeMetadata(m: PhysicalMetadata): Uint8Array {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
}

export function decodeMetadata(bytes: Uint8Array, where: string): PhysicalMetadata {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new FormatError('E_PHYSICAL_META', 'is not JSON', { path: where });
  }
  if (d.format !== 'sluice-physical' || d.version !== 1) throw new FormatError('E_PHYSICAL_META', 'is not a sluice physical backup description (version 1)', { path: where });
  if (d.engine !== 'mariadb' && d.engine !== 'postgres') throw new FormatError('E_PHYSICAL_META', `unknown engine ${JSON.stringify(d.engine)}`, { path: where });
  for (const key of ['root', 'server', 'tool', 'backupType']) {
    if (typeof d[key] !== 'string') throw new FormatError('E_PHYSICAL_META', `${key} is not a string`, { path: where });
  }
  for (const key of ['fromLsn', 'toLsn', 'lastLsn']) {
    if (d[key] !== undefined && (typeof d[key] !== 'string' || !/^\d{1,20}$/.test(d[key] as string))) {
      throw new FormatError('E_PHYSICAL_META', `${key} is not an LSN`, { path: where });
    }
  }
  if (d.base !== undefined && (typeof d.base !== 'string' || !/^[0-9a-f]{64}$/.test(d.base))) throw new FormatError('E_PHYSICAL_META', 'base is not a snapshot id', { path: where });
  return d as unknown as PhysicalMetadata;
}

/** The description of a physical snapshot, or undefined for any other snapshot. */
export async function readMetadata(repo: Repository, pool: CryptoPool, ref: SnapshotRef): Promise<PhysicalMetadata | undefined> {
  if (!ref.snapshot.paths.includes(`/${METADATA_FILE}`)) return undefined;
  const node = await findNode(repo, ref.snapshot.tree, toSafePath(METADATA_FILE)).catch(() => undefined);
  if (node?.type !== 'file' || node.size > MAX_METADATA_BYTES) return undefined;
  const pieces: Uint8Array[] = [];
  for await (const piece of readFile(repo, pool, node, `/${METADATA_FILE}`)) pieces.push(Uint8Array.from(piece));
  return decodeMetadata(Buffer.concat(pieces), `${ref.id.slice(0, 8)}:/${METADATA_FILE}`);
}

/** `key = value` lines (xtrabackup_info). */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/**
 * The metadata of a mariabackup stream from its meta files: `xtrabackup_checkpoints` (type and LSNs,
 * required), `xtrabackup_info` (versions), `xtrabackup_binlog_info` (binlog file, position, GTID).
 */
export function mariadbMetadata(meta: ReadonlyMap<string, Uint8Array>, base: Omit<PhysicalMetadata, 'backupType' | 'format' | 'version' | 'engine' | 'root'>): PhysicalMetadata {
  const checkpointsBytes = meta.get('xtrabackup_checkpoints');
  if (checkpointsBytes === undefined) throw new FormatError('E_NOT_A_BACKUP', "mariabackup's stream holds no xtrabackup_checkpoints", { path: 'mariabackup output' });
  const checkpoints = parseCheckpoints(Buffer.from(checkpointsBytes).toString('utf8'));
  const info = parseInfo(Buffer.from(meta.get('xtrabackup_info') ?? new Uint8Array()).toString('utf8'));
  const binlogLine = Buffer.from(meta.get('xtrabackup_binlog_info') ?? new Uint8Array()).toString('utf8').trim();
  const [file, position, gtid] = binlogLine === '' ? [] : binlogLine.split(/\s+/);
  const binlog = { ...(file === undefined ? {} : { file }), ...(position === undefined ? {} : { position }), ...(gtid === undefined ? {} : { gtid }) };
  return {
    format: 'sluice-physical',
    version: 1,
    engine: 'mariadb',
    root: engineRoot('mariadb'),
    ...base,
    ...(info.server_version === undefined ? {} : { serverVersion: info.server_version }),
    ...(info.tool_version === undefined ? {} : { toolVersion: info.tool_version }),
    backupType: checkpoints.backupType,
    fromLsn: String(checkpoints.fromLsn),
    toLsn: String(checkpoints.toLsn),
    ...(checkpoints.lastLsn === undefined ? {} : { lastLsn: String(checkpoints.lastLsn) }),
    ...(Object.keys(binlog).length === 0 ? {} : { binlog }),
  };
}

/** The metadata of a pg_basebackup tar from `backup_label` (required) and `PG_VERSION`. */
export function postgresMetadata(meta: ReadonlyMap<string, Uint8Array>, base: Omit<PhysicalMetadata, 'backupType' | 'format' | 'version' | 'engine' | 'root'>): PhysicalMetadata {
  const label = meta.get('backup_label');
  if (label === undefined) throw new FormatError('E_PG_TAR', 'pg_basebackup output holds no backup_label', { path: 'pg_basebackup output' });
  const text = Buffer.from(label).toString('utf8');
  const field = (key: string): string | undefined => new RegExp(`^${key}: (.*)$`, 'm').exec(text)?.[1]?.trim();
  const version = Buffer.from(meta.get('PG_VERSION') ?? new Uint8Array()).toString('utf8').trim();
  const startWal = field('START WAL LOCATION');
  const checkpoint = field('CHECKPOINT LOCATION');
  return {
    format: 'sluice-physical',
    version: 1,
    engine: 'postgres',
    root: engineRoot('postgres'),
    ...base,
    ...(version === '' ? {} : { serverVersion: version }),
    backupType: 'full',
    ...(startWal === undefined ? {} : { startWal }),
    ...(checkpoint === undefined ? {} : { checkpoint }),
  };
}
