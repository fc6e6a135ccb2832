/** Jobs that verify the repository or remove from it: check, forget, prune. */
import { IntegrityError, SluiceError, UsageError } from '../../errors.js';
import type { RepoLock } from '../../repo/lock.js';
import { checkRepository, type CheckReport, type ReadDataSelection } from '../../repo/maintenance/check.js';
import { applyPolicy, type ForgetDecision, type GroupBy, type KeepPolicy, policyIsEmpty } from '../../repo/maintenance/forget.js';
import { prune as pruneRepository, type PruneReport } from '../../repo/maintenance/prune.js';
import type { Repository } from '../../repo/repository.js';
import type { CryptoPool } from '../../repo/workers/crypto-pool.js';
import { deleteSnapshots, listSnapshots, matchesFilter, resolveSnapshot, type SnapshotRef } from '../../repo/snapshot/snapshots.js';
import { withCryptoPool } from './crypto-pool.js';
import { lockRepository } from './open.js';

export interface CheckOptions {
  /** Also read packs and open every blob in them: all, a fraction picked at random, or slice n of t. */
  readData?: ReadDataSelection;
  onProgress?: (message: string) => void;
}

/**
 * Checks keys, config, index objects against the packs, every snapshot, tree and referenced blob (and
 * with `readData`, the data itself). Damage is reported, not thrown: see `checkFailure`.
 */
export async function check(repo: Repository, options: CheckOptions = {}): Promise<CheckReport> {
  const run = (pool?: CryptoPool): Promise<CheckReport> =>
    checkRepository(repo, {
      ...(options.readData === undefined ? {} : { readData: options.readData }),
      ...(pool === undefined ? {} : { pool }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
  return options.readData === undefined ? run() : withCryptoPool(repo, run);
}

/** The error a report with problems amounts to (exit status 4 when bytes failed an integrity check, else 1), or undefined. */
export function checkFailure(report: CheckReport): SluiceError | undefined {
  if (report.problems.length === 0) return undefined;
  const message = `check found ${report.problems.length} problem(s)`;
  return report.problems.some((p) => p.kind === 'integrity') ? new IntegrityError('E_CHECK_FAILED', message) : new SluiceError('E_CHECK_FAILED', message);
}

export interface PruneOptions {
  /** Unused bytes tolerated in kept packs, as a fraction of used bytes (default 0.05). */
  maxUnused?: number;
  /** Only report what would be deleted. */
  dryRun?: boolean;
  onProgress?: (message: string) => void;
}

/**
 * Deletes packs no snapshot uses, repacks mostly unused ones and writes a compact index. The caller must
 * hold an exclusive lock (openRepository with `lock: 'exclusive'`): prune must never run beside a backup.
 */
export function prune(repo: Repository, options: PruneOptions = {}): Promise<PruneReport> {
  return withCryptoPool(repo, (pool) =>
    pruneRepository(repo, {
      pool,
      ...(options.maxUnused === undefined ? {} : { maxUnused: options.maxUnused }),
      dryRun: options.dryRun === true,
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    }),
  );
}

export interface ForgetOptions {
  /** Snapshot ids (prefixes) to remove; or else `policy`. */
  ids?: readonly string[];
  /** Remove every snapshot (of those `tags` and `host` select) that no rule keeps, per group. */
  policy?: KeepPolicy;
  /** With a policy: only consider snapshots with all these tags. */
  tags?: readonly string[];
  /** With a policy: only consider snapshots of this host. */
  host?: string;
  /** With a policy: how snapshots are grouped (default host,paths). */
  groupBy?: GroupBy;
  /** Decide and report, remove nothing. */
  dryRun?: boolean;
  /**
   * Prune afterwards (when something was removed). `lock` is the shared lock the caller holds: it is
   * released and an exclusive one taken for the prune (waiting up to `retryLockMs`).
   */
  prune?: PruneOptions & { lock?: RepoLock; retryLockMs?: number };
  /** Called with the decisions before anything is removed. */
  onPlan?: (plan: ForgetPlan) => void;
  /** Called once the snapshot objects are deleted (before a prune starts). */
  onRemoved?: (removed: readonly SnapshotRef[]) => void;
}

export interface ForgetPlan {
  /** Per group, with a policy (undefined with ids). */
  groups: ForgetDecision[] | undefined;
  remove: SnapshotRef[];
}

export interface ForgetResult extends ForgetPlan {
  /** The prune's report, when one ran. */
  prune?: PruneReport;
}

/**
 * Refuses a forget that names both ids and keep rules, or neither (forget never removes everything by
 * default). `forget` checks it too; a caller can check before opening the repository.
 */
export function checkForgetRequest(ids: readonly string[], policy: KeepPolicy): void {
  if (ids.length > 0 && !policyIsEmpty(policy)) throw new UsageError('give snapshot ids or --keep-* rules, not both');
  if (ids.length === 0 && policyIsEmpty(policy)) throw new UsageError('nothing to do: give snapshot ids or at least one --keep-* rule (forget never removes everything by default)');
}

/** Removes snapshots by id, or all but those a retention policy keeps; data is freed by `prune` (or `options.prune`). */
export async function forget(repo: Repository, options: ForgetOptions): Promise<ForgetResult> {
  const ids = options.ids ?? [];
  const policy = options.policy ?? {};
  checkForgetRequest(ids, policy);
  const all = await listSnapshots(repo);
  let plan: ForgetPlan;
  if (ids.length > 0) {
    plan = { groups: undefined, remove: ids.map((id) => resolveSnapshot(all, id)) };
  } else {
    const candidates = all.filter((s) => matchesFilter(s.snapshot, { tags: [...(options.tags ?? [])], ...(options.host === undefined ? {} : { host: options.host }) }));
    const groups = applyPolicy(candidates, policy, options.groupBy ?? 'host,paths');
    plan = { groups, remove: groups.flatMap((d) => d.remove) };
  }
  options.onPlan?.(plan);
  if (options.dryRun === true) return plan;
  await deleteSnapshots(repo, plan.remove.map((r) => r.id));
  options.onRemoved?.(plan.remove);
  if (options.prune === undefined || plan.remove.length === 0) return plan;
  const { lock: shared, retryLockMs, ...pruneOptions } = options.prune;
  await shared?.release();
  const exclusive = await lockRepository(repo, { exclusive: true, purpose: 'prune', ...(retryLockMs === undefined ? {} : { retryMs: retryLockMs }) });
  try {
    return { ...plan, prune: await prune(repo, pruneOptions) };
  } finally {
    await exclusive.release();
  }
}
