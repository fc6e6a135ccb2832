/** Copying snapshots from one repository into another, re-encrypted for the target's keys. */
import { copySnapshots as copyBetween, type CopyReport } from '../../repo/maintenance/copy.js';
import type { Repository } from '../../repo/repository.js';
import { listSnapshots, matchesFilter, resolveSnapshot, type SnapshotRef } from '../../repo/snapshot/snapshots.js';
import { defaultUploads } from './uploads.js';

export interface CopySnapshotsOptions {
  /** Snapshot ids (prefixes) or `latest` to copy; empty or absent: every snapshot that matches the filter. */
  snapshots?: readonly string[];
  /** Only snapshots with all these tags. */
  tags?: readonly string[];
  /** Only snapshots of this host. */
  host?: string;
  /** Packs uploaded at once to the target (default: 4 to S3, 2 to a local directory). */
  uploads?: number;
  /** Called per snapshot: `copied` is the new id in the target, absent when the target had it already. */
  onSnapshot?: (event: { source: SnapshotRef; copied?: string }) => void;
}

/**
 * Copies snapshots from `source` into `target`. Only blobs the target lacks are stored; a snapshot the
 * target already has (same time, host, user, paths, streams and tags) is skipped, so a rerun copies nothing.
 * Both repositories should be held with a shared lock.
 */
export async function copySnapshots(source: Repository, target: Repository, options: CopySnapshotsOptions = {}): Promise<CopyReport> {
  const filter = { tags: [...(options.tags ?? [])], ...(options.host === undefined ? {} : { host: options.host }) };
  const all = await listSnapshots(source);
  const refs = options.snapshots ?? [];
  let selected: SnapshotRef[];
  if (refs.length === 0) selected = all.filter((s) => matchesFilter(s.snapshot, filter));
  else selected = [...new Map(refs.map((r) => resolveSnapshot(all, r, filter)).map((s) => [s.id, s])).values()];
  return copyBetween(source, target, selected, {
    uploads: options.uploads ?? defaultUploads(target.store),
    ...(options.onSnapshot === undefined ? {} : { onSnapshot: options.onSnapshot }),
  });
}
