/**
 * Which snapshots a query looks at: by id prefix, tag, host and time. Times are absolute (ISO 8601) or
 * relative to now (`7d`, `12h`, `30m`, `2w`).
 */
import { UsageError } from '../../errors.js';
import { bySnapshotTime, listSnapshots, type SnapshotRef } from '../snapshot/snapshots.js';
import type { Repository } from '../repository.js';

export interface SnapshotQuery {
  /** Id prefixes (at least 4 hex digits); any of them. */
  snapshots?: readonly string[];
  /** Every one of these tags. */
  tags?: readonly string[];
  host?: string;
  /** Snapshots taken at or after this time. */
  newer?: Date;
  /** Snapshots taken at or before this time. */
  older?: Date;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `7d` (seven days before `now`) or an ISO 8601 date or time. */
export function parseTimeBound(text: string, option: string, now: Date): Date {
  const relative = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (relative !== null) return new Date(now.getTime() - Number(relative[1]) * (UNIT_MS[relative[2] as string] as number));
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const t = Date.parse(text);
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new UsageError(`${option}: "${text}" is neither an age (7d, 12h, 30m, 2w) nor an ISO date (2026-12-01 or 2026-12-01T10:00:00Z)`);
}

export function matchesSnapshotQuery(ref: SnapshotRef, q: SnapshotQuery): boolean {
  const s = ref.snapshot;
  if (q.snapshots !== undefined && q.snapshots.length > 0 && !q.snapshots.some((p) => ref.id.startsWith(p))) return false;
  if (q.host !== undefined && s.host !== q.host) return false;
  if (q.tags !== undefined && !q.tags.every((t) => s.tags.includes(t))) return false;
  const time = Date.parse(s.time);
  if (q.newer !== undefined && time < q.newer.getTime()) return false;
  if (q.older !== undefined && time > q.older.getTime()) return false;
  return true;
}

/** The snapshots a query selects, newest first. */
export async function selectSnapshots(repo: Repository, q: SnapshotQuery): Promise<SnapshotRef[]> {
  for (const p of q.snapshots ?? []) {
    if (!/^[0-9a-f]{4,64}$/.test(p)) throw new UsageError(`"${p}" is not a snapshot id (at least 4 hex digits)`);
  }
  const all = await listSnapshots(repo);
  return all.filter((r) => matchesSnapshotQuery(r, q)).sort((a, b) => bySnapshotTime(b, a));
}
