/**
 * Retention policies (`forget --keep-…`), as restic applies them: snapshots are grouped (by host and
 * paths by default), each group is sorted newest first, and a snapshot is kept when any rule wants it:
 * the newest N (`last`), the newest in each of the N most recent hours / days / weeks / months / years
 * that have snapshots, those with a kept tag, and those within a duration of the newest. Pure functions:
 * deleting is the caller's job.
 */
import type { SnapshotRef } from '../snapshot/snapshots.js';

export interface KeepPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** Keep every snapshot with one of these tags. */
  tags?: string[];
  /** Keep everything newer than this many ms before the newest snapshot of the group. */
  withinMs?: number;
}

export type GroupBy = 'host,paths' | 'host' | 'paths' | 'none';

export interface ForgetDecision {
  group: string;
  keep: { ref: SnapshotRef; reasons: string[] }[];
  remove: SnapshotRef[];
}

export function policyIsEmpty(p: KeepPolicy): boolean {
  return (
    p.last === undefined && p.hourly === undefined && p.daily === undefined && p.weekly === undefined &&
    p.monthly === undefined && p.yearly === undefined && (p.tags ?? []).length === 0 && p.withinMs === undefined
  );
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** ISO week-numbering year and week of a local date. */
function isoWeek(d: Date): string {
  const day = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const weekday = (day.getDay() + 6) % 7;
  day.setDate(day.getDate() - weekday + 3);
  const firstThursday = new Date(day.getFullYear(), 0, 4);
  const week = 1 + Math.round(((day.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getDay() + 6) % 7)) / 7);
  return `${day.getFullYear()}-W${pad(week)}`;
}

const BUCKETS: { rule: keyof KeepPolicy; key: (d: Date) => string }[] = [
  { rule: 'hourly', key: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}` },
  { rule: 'daily', key: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` },
  { rule: 'weekly', key: isoWeek },
  { rule: 'monthly', key: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}` },
  { rule: 'yearly', key: (d) => String(d.getFullYear()) },
];

export function groupKey(ref: SnapshotRef, by: GroupBy): string {
  const s = ref.snapshot;
  const paths = [...s.paths, ...s.streams.map((n) => `/${n}`)].sort().join(',');
  if (by === 'host') return `host=${s.host}`;
  if (by === 'paths') return `paths=${paths}`;
  if (by === 'none') return '';
  return `host=${s.host} paths=${paths}`;
}

export function applyPolicy(all: readonly SnapshotRef[], policy: KeepPolicy, by: GroupBy = 'host,paths'): ForgetDecision[] {
  const groups = new Map<string, SnapshotRef[]>();
  for (const ref of all) {
    const key = groupKey(ref, by);
    const list = groups.get(key) ?? [];
    list.push(ref);
    groups.set(key, list);
  }
  const decisions: ForgetDecision[] = [];
  for (const [group, refs] of groups) {
    const newestFirst = [...refs].sort((a, b) => Date.parse(b.snapshot.time) - Date.parse(a.snapshot.time) || (a.id < b.id ? 1 : -1));
    const reasons = new Map<string, string[]>();
    const keep = (ref: SnapshotRef, why: string): void => {
      const list = reasons.get(ref.id) ?? [];
      list.push(why);
      reasons.set(ref.id, list);
    };
    newestFirst.slice(0, policy.last ?? 0).forEach((ref, i) => keep(ref, `last ${i + 1}`));
    for (const { rule, key } of BUCKETS) {
      const count = policy[rule] as number | undefined;
      if (count === undefined || count <= 0) continue;
      let seen = 0;
      let lastKey: string | undefined;
      for (const ref of newestFirst) {
        const k = key(new Date(ref.snapshot.time));
        if (k === lastKey) continue;
        lastKey = k;
        keep(ref, `${rule} ${k}`);
        if (++seen >= count) break;
      }
    }
    for (const tag of policy.tags ?? []) for (const ref of newestFirst) if (ref.snapshot.tags.includes(tag)) keep(ref, `tag ${tag}`);
    if (policy.withinMs !== undefined && newestFirst.length > 0) {
      const newest = Date.parse((newestFirst[0] as SnapshotRef).snapshot.time);
      for (const ref of newestFirst) if (newest - Date.parse(ref.snapshot.time) <= policy.withinMs) keep(ref, 'within');
    }
    decisions.push({
      group,
      keep: newestFirst.filter((r) => reasons.has(r.id)).map((ref) => ({ ref, reasons: reasons.get(ref.id) as string[] })),
      remove: newestFirst.filter((r) => !reasons.has(r.id)),
    });
  }
  return decisions;
}
