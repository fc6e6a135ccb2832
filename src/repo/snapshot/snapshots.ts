/**
 * Snapshot objects (`snapshots/<id>`): one small sealed JSON document per snapshot, written last.
 * Listing, loading and resolving user references (`latest`, an id prefix) live here.
 */
import { FormatError, SluiceError, UsageError } from '../../errors.js';
import { idFromName, Limits, Names, ObjectKind } from '../format.js';
import type { Repository } from '../repository.js';
import { deleteObjects } from '../storage/object-store.js';
import { forEachLimit } from '../util/parallel.js';

export interface SnapshotSummary {
  files: number;
  dirs: number;
  symlinks: number;
  /** Logical bytes of every file and stream in the snapshot. */
  bytes: number;
  /** Bytes of new file data this snapshot added (before compression), and all it stored (packs written). */
  newBytes: number;
  storedBytes: number;
  durationMs: number;
}

export interface Snapshot {
  time: string;
  host: string;
  user: string;
  tags: string[];
  /** Directories as given on the command line (absolute). */
  paths: string[];
  /** Named streams (paths inside the snapshot). */
  streams: string[];
  /** Root tree blob id (hex). */
  tree: string;
  parent?: string;
  program: string;
  summary: SnapshotSummary;
}

export interface SnapshotRef {
  id: string;
  snapshot: Snapshot;
}

export function encodeSnapshot(s: Snapshot): Buffer {
  return Buffer.from(
    JSON.stringify({
      version: 1,
      time: s.time,
      host: s.host,
      user: s.user,
      tags: s.tags,
      paths: s.paths,
      streams: s.streams,
      tree: s.tree,
      ...(s.parent === undefined ? {} : { parent: s.parent }),
      program: s.program,
      summary: s.summary,
    }),
  );
}

export function decodeSnapshot(plain: Uint8Array, object: string): Snapshot {
  const bad = (why: string): never => {
    throw new FormatError('E_BAD_SNAPSHOT', `snapshot object is invalid: ${why}`, { object });
  };
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(Buffer.from(plain).toString('utf8')) as Record<string, unknown>;
  } catch {
    return bad('not JSON');
  }
  if (typeof d !== 'object' || d === null || d.version !== 1) bad('unknown version');
  const str = (v: unknown, what: string, max = 4096): string => {
    if (typeof v !== 'string' || v.length > max) bad(`${what} is not a string`);
    return v as string;
  };
  const strList = (v: unknown, what: string): string[] => {
    if (!Array.isArray(v) || v.length > 65536) bad(`${what} is not a list`);
    return (v as unknown[]).map((x) => str(x, what));
  };
  const time = str(d.time, 'time', 64);
  if (Number.isNaN(Date.parse(time))) bad('time is not a date');
  const tree = str(d.tree, 'tree', 64);
  if (!/^[0-9a-f]{64}$/.test(tree)) bad('tree is not an id');
  const sum = (d.summary ?? {}) as Record<string, unknown>;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  const snapshot: Snapshot = {
    time,
    host: str(d.host, 'host', 255),
    user: str(d.user, 'user', 255),
    tags: strList(d.tags ?? [], 'tags'),
    paths: strList(d.paths ?? [], 'paths'),
    streams: strList(d.streams ?? [], 'streams'),
    tree,
    program: str(d.program ?? '', 'program', 255),
    summary: {
      files: n(sum.files),
      dirs: n(sum.dirs),
      symlinks: n(sum.symlinks),
      bytes: n(sum.bytes),
      newBytes: n(sum.newBytes),
      storedBytes: n(sum.storedBytes),
      durationMs: n(sum.durationMs),
    },
  };
  if (d.parent !== undefined) {
    const parent = str(d.parent, 'parent', 64);
    if (!/^[0-9a-f]{64}$/.test(parent)) bad('parent is not an id');
    snapshot.parent = parent;
  }
  return snapshot;
}

export async function writeSnapshot(repo: Repository, s: Snapshot): Promise<string> {
  return repo.writeObject(ObjectKind.snapshot, Names.snapshot, encodeSnapshot(s));
}

export async function loadSnapshot(repo: Repository, id: string): Promise<Snapshot> {
  const name = Names.snapshot(id);
  return decodeSnapshot(await repo.readObject(ObjectKind.snapshot, name, id, Limits.snapshotObjectBytes, 'snapshot object'), name);
}

export async function listSnapshotIds(repo: Repository): Promise<string[]> {
  const ids: string[] = [];
  for await (const info of repo.store.list(Names.snapshotsPrefix)) {
    const id = idFromName(info.name, Names.snapshotsPrefix);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** Every snapshot, oldest first (ties broken by id). */
export async function listSnapshots(repo: Repository): Promise<SnapshotRef[]> {
  const ids = await listSnapshotIds(repo);
  const out: SnapshotRef[] = [];
  await forEachLimit(ids, 8, async (id) => {
    out.push({ id, snapshot: await loadSnapshot(repo, id) });
  });
  await repo.cache.retainOnly('snapshots/', new Set(ids.map((id) => Names.snapshot(id))));
  return out.sort(bySnapshotTime);
}

export function bySnapshotTime(a: SnapshotRef, b: SnapshotRef): number {
  const ta = Date.parse(a.snapshot.time);
  const tb = Date.parse(b.snapshot.time);
  return ta !== tb ? ta - tb : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export interface SnapshotFilter {
  host?: string;
  tags?: string[];
  paths?: string[];
}

export function matchesFilter(s: Snapshot, f: SnapshotFilter): boolean {
  if (f.host !== undefined && s.host !== f.host) return false;
  if (f.tags !== undefined && f.tags.length > 0 && !f.tags.every((t) => s.tags.includes(t))) return false;
  if (f.paths !== undefined && f.paths.length > 0 && !f.paths.every((p) => s.paths.includes(p) || s.streams.includes(p))) return false;
  return true;
}

export class SnapshotNotFoundError extends SluiceError {
  constructor(ref: string, why: string) {
    super('E_NO_SNAPSHOT', `no snapshot ${JSON.stringify(ref)}: ${why}`);
  }
}

/** `latest` (newest matching the filter) or a unique id prefix of at least 4 hex digits. */
export function resolveSnapshot(all: readonly SnapshotRef[], ref: string, filter: SnapshotFilter = {}): SnapshotRef {
  if (ref === 'latest') {
    const matching = all.filter((s) => matchesFilter(s.snapshot, filter));
    const last = matching[matching.length - 1];
    if (last === undefined) throw new SnapshotNotFoundError(ref, 'the repository has no snapshot that matches');
    return last;
  }
  if (!/^[0-9a-f]{4,64}$/.test(ref)) throw new UsageError(`"${ref}" is not a snapshot id (use "latest" or at least 4 hex digits of an id)`);
  const found = all.filter((s) => s.id.startsWith(ref));
  if (found.length === 0) throw new SnapshotNotFoundError(ref, 'no snapshot id starts with it');
  if (found.length > 1) throw new SnapshotNotFoundError(ref, `${found.length} snapshot ids start with it; give more digits`);
  return found[0] as SnapshotRef;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Deletes snapshot objects (their data stays until prune finds it unused). */
export function deleteSnapshots(repo: Repository, ids: readonly string[]): Promise<void> {
  return deleteObjects(repo.store, ids.map((id) => Names.snapshot(id)));
}
