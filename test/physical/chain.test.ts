/**
 * The chain of a physical snapshot, on snapshots written by the member archiver into an in-memory
 * repository: a whole chain comes back oldest first; a forgotten link, an LSN gap, another server or
 * another engine are refused with a message naming the snapshots.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toSafePath } from '../../src/entry.js';
import { physicalChain } from '../../src/jobs/physical/chain.js';
import { MemberArchiver } from '../../src/jobs/physical/member-archiver.js';
import { encodeMetadata, METADATA_FILE, type PhysicalMetadata } from '../../src/jobs/physical/metadata.js';
import { ContentWriter } from '../../src/repo/content/content-writer.js';
import type { Repository } from '../../src/repo/repository.js';
import { listSnapshots, type SnapshotRef } from '../../src/repo/snapshot/snapshots.js';
import { MemoryStore } from '../../src/repo/storage/memory.js';
import { walkTree } from '../../src/repo/snapshot/walker.js';
import { CryptoPool } from '../../src/repo/workers/crypto-pool.js';
import { memoryRepo } from '../repo/helpers.js';

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

let clock = Date.parse('2026-01-01T00:00:00Z');

async function physicalSnapshot(repo: Repository, m: Partial<PhysicalMetadata>): Promise<string> {
  const session = new ContentWriter(repo, { sealers: 1 });
  try {
    const archiver = new MemberArchiver(repo, session);
    const root = m.engine ?? 'mariadb';
    // members in stream order, not walk order: a database directory between two top-level files
    await archiver.addFile(toSafePath(`${root}/ibdata1`), { mode: 0o640, mtimeMs: 0 }, bytes(`pages ${m.toLsn}`));
    await archiver.addFile(toSafePath(`${root}/db/t.ibd`), { mode: 0o640, mtimeMs: 0 }, bytes('table'));
    await archiver.addFile(toSafePath(`${root}/xtrabackup_checkpoints`), { mode: 0o640, mtimeMs: 0 }, bytes(`to_lsn = ${m.toLsn}\n`));
    const metadata: PhysicalMetadata = {
      format: 'sluice-physical',
      version: 1,
      engine: 'mariadb',
      root,
      server: '127.0.0.1:3306',
      tool: 'mariabackup',
      backupType: 'full-backuped',
      members: 3,
      arguments: [],
      ...m,
    };
    await archiver.addFile(toSafePath(METADATA_FILE), { mode: 0o644, mtimeMs: 0 }, bytes(Buffer.from(encodeMetadata(metadata)).toString()));
    clock += 60_000;
    const { id } = await archiver.commit({ time: new Date(clock).toISOString(), host: 'db1', user: 'backup', tags: [], paths: [`/${root}`, `/${METADATA_FILE}`], streams: [], program: 'test' });
    return id;
  } finally {
    await session.close();
  }
}

test('physicalChain: full + incrementals oldest first; broken, gapped and mixed chains refused', async (t) => {
  const repo = await memoryRepo(new MemoryStore());
  const pool = new CryptoPool({ setup: { keys: repo.workerKeys }, sealers: 1 });
  t.after(() => pool.close());
  const full = await physicalSnapshot(repo, { fromLsn: '0', toLsn: '100' });
  const inc1 = await physicalSnapshot(repo, { backupType: 'incremental', fromLsn: '100', toLsn: '200', base: full });
  const inc2 = await physicalSnapshot(repo, { backupType: 'incremental', fromLsn: '200', toLsn: '300', base: inc1 });
  const gap = await physicalSnapshot(repo, { backupType: 'incremental', fromLsn: '250', toLsn: '400', base: inc2 });
  const otherServer = await physicalSnapshot(repo, { backupType: 'incremental', fromLsn: '300', toLsn: '500', base: inc2, server: '10.0.0.9:3306' });
  const pg = await physicalSnapshot(repo, { engine: 'postgres', root: 'postgres', tool: 'pg_basebackup', backupType: 'full' });
  const onPostgres = await physicalSnapshot(repo, { backupType: 'incremental', fromLsn: '300', toLsn: '600', base: pg });
  const orphan = await physicalSnapshot(repo, { backupType: 'incremental', fromLsn: '300', toLsn: '700', base: 'ab'.repeat(32) });
  await repo.loadIndex();
  const all = await listSnapshots(repo);
  const ref = (id: string): SnapshotRef => all.find((s) => s.id === id) as SnapshotRef;

  const chain = await physicalChain(repo, pool, all, ref(inc2));
  assert.deepEqual(chain.map((l) => l.ref.id), [full, inc1, inc2]);
  assert.deepEqual(chain.map((l) => l.metadata.toLsn), ['100', '200', '300']);
  assert.deepEqual((await physicalChain(repo, pool, all, ref(full))).map((l) => l.ref.id), [full]);

  await assert.rejects(physicalChain(repo, pool, all, ref(gap)), /broken chain: .* starts at LSN 250 but its base .* ends at 300/);
  await assert.rejects(physicalChain(repo, pool, all, ref(otherServer)), /mixed chain: .*10\.0\.0\.9:3306/);
  await assert.rejects(physicalChain(repo, pool, all, ref(onPostgres)), /mixed chain: .* postgres/);
  await assert.rejects(physicalChain(repo, pool, all, ref(orphan)), /broken chain: .* abababab, which is not in the repository/);
  // members stored out of walk order make an ordinary tree
  const paths: string[] = [];
  for await (const item of walkTree(repo, ref(full).snapshot.tree, '')) paths.push(`${item.path}${item.node.type === 'dir' ? '/' : ''}`);
  assert.deepEqual(paths, ['mariadb/', 'mariadb/db/', 'mariadb/db/t.ibd', 'mariadb/ibdata1', 'mariadb/xtrabackup_checkpoints', 'physical.json']);
  const without = all.filter((s) => s.id !== inc1);
  await assert.rejects(physicalChain(repo, pool, without, ref(inc2)), new RegExp(`broken chain: incremental ${inc2.slice(0, 8)} starts from snapshot ${inc1.slice(0, 8)}`));
});
