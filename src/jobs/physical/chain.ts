/**
 * The chain of a physical snapshot: the full backup it rests on and every incremental up to it, oldest
 * first, each link checked (same engine, same server, each incremental starting at the LSN where its base
 * ends). A chain with a forgotten link, a foreign link or a gap is refused before anything is restored.
 */
import { SluiceError } from '../../errors.js';
import type { Repository } from '../../repo/repository.js';
import type { SnapshotRef } from '../../repo/snapshot/snapshots.js';
import type { CryptoPool } from '../../repo/workers/crypto-pool.js';
import { type PhysicalMetadata, readMetadata } from './metadata.js';

export interface ChainLink {
  ref: SnapshotRef;
  metadata: PhysicalMetadata;
}

export class ChainError extends SluiceError {}

/** Longer chains than this are a loop or a mistake. */
const MAX_CHAIN = 1000;

export async function physicalChain(repo: Repository, pool: CryptoPool, all: readonly SnapshotRef[], target: SnapshotRef): Promise<ChainLink[]> {
  const short = (id: string): string => id.slice(0, 8);
  const first = await readMetadata(repo, pool, target);
  if (first === undefined) throw new ChainError('E_NOT_PHYSICAL', `snapshot ${short(target.id)} is not a physical backup (it has no /physical.json): restore it with --target`);
  const chain: ChainLink[] = [{ ref: target, metadata: first }];
  for (;;) {
    const head = chain[0] as ChainLink;
    const m = head.metadata;
    if (m.base === undefined) {
      if (m.engine === 'mariadb' && m.backupType === 'incremental') {
        throw new ChainError('E_BROKEN_CHAIN', `broken chain: snapshot ${short(head.ref.id)} is an incremental that names no base snapshot`);
      }
      break;
    }
    if (chain.length >= MAX_CHAIN) throw new ChainError('E_BROKEN_CHAIN', `chain of ${short(target.id)} is longer than ${MAX_CHAIN} snapshots (a loop?)`);
    const baseRef = all.find((s) => s.id === m.base);
    if (baseRef === undefined) {
      throw new ChainError('E_BROKEN_CHAIN', `broken chain: incremental ${short(head.ref.id)} starts from snapshot ${short(m.base)}, which is not in the repository (forgotten?); nothing was restored`);
    }
    const base = await readMetadata(repo, pool, baseRef);
    if (base === undefined) throw new ChainError('E_MIXED_CHAIN', `mixed chain: the base ${short(baseRef.id)} of ${short(head.ref.id)} is not a physical backup`);
    if (base.engine !== m.engine || base.server !== m.server) {
      throw new ChainError('E_MIXED_CHAIN', `mixed chain: ${short(head.ref.id)} is ${m.engine} of ${m.server} but its base ${short(baseRef.id)} is ${base.engine} of ${base.server}`);
    }
    if (base.toLsn === undefined || base.toLsn !== m.fromLsn) {
      throw new ChainError('E_BROKEN_CHAIN', `broken chain: ${short(head.ref.id)} starts at LSN ${m.fromLsn} but its base ${short(baseRef.id)} ends at ${base.toLsn ?? 'no LSN'}`);
    }
    if (chain.some((l) => l.ref.id === baseRef.id)) throw new ChainError('E_BROKEN_CHAIN', `chain of ${short(target.id)} loops at ${short(baseRef.id)}`);
    chain.unshift({ ref: baseRef, metadata: base });
  }
  const full = chain[0] as ChainLink;
  if (full.metadata.engine === 'mariadb' && full.metadata.backupType !== 'full-backuped') {
    throw new ChainError('E_BROKEN_CHAIN', `broken chain: it starts at ${short(full.ref.id)}, a ${full.metadata.backupType} backup, not a full one`);
  }
  return chain;
}
