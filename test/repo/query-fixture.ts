/**
 * A repository with history, for `find`, `history` and the web UI: a mariabackup-like tree backed up twice
 * (a config edited, a table added in between) and a SQL dump stream on another host.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ok } from '../helpers/cli.js';
import { makeTree, pseudoRandomBytes } from '../helpers/tree.js';
import type { TestContextLike } from '../helpers/tmp.js';
import { json, type TestRepo, testRepo } from './helpers.js';

export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';

export const DUMP_SQL =
  '-- sluice test dump\nCREATE TABLE `orders` (\n  `id` INT NOT NULL PRIMARY KEY,\n  `note` VARCHAR(64)\n);\n' +
  "INSERT INTO `orders` VALUES (1, 'first'), (2, 'second');\nSELECT COUNT(*) FROM orders WHERE id > 1;\n";

/** A 1×1 PNG. */
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

export interface QueryFixture {
  r: TestRepo;
  /** The backed-up directory (absolute; snapshot paths are below it). */
  src: string;
  /** Snapshot ids, oldest first: two of the tree (host db1), one of the dump (host web1). */
  ids: [string, string, string];
  files: Record<string, Buffer>;
}

export async function queryFixture(t: TestContextLike): Promise<QueryFixture> {
  const r = await testRepo(t);
  const src = join(r.dir, 'src');
  const files: Record<string, Buffer> = {
    'backup/ibdata1': pseudoRandomBytes(300 * 1024, 3),
    'backup/xtrabackup_checkpoints': Buffer.from('backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 1626007\n'),
    'backup/backup-my.cnf': Buffer.from('[mysqld]\ninnodb_page_size=16384\n'),
    'backup/shop/orders.ibd': pseudoRandomBytes(64 * 1024, 4),
    'backup/shop/orders.frm': pseudoRandomBytes(900, 5),
    'etc/nginx/nginx.conf': Buffer.from('worker_processes 1;\n'),
    'etc/schema.sql': Buffer.from(DUMP_SQL),
    'notes/README.TXT': Buffer.from('read me\n'),
    [`notes/${HOSTILE_NAME}`]: Buffer.from('hostile name\n'),
    'media/dot.png': PNG,
    'media/dump.sql.gz': gzipSync(DUMP_SQL),
    'media/dump.sql.zst': execFileSync('zstd', ['-q', '-c'], { input: DUMP_SQL }),
  };
  await makeTree(src, files);
  const snap = async (args: string[], input?: string): Promise<string> =>
    json<{ id: string }>(ok(await r.run(['snapshot', ...args, '--json', '--no-progress'], input === undefined ? {} : { input }))).id;
  const first = await snap([src, '--host', 'db1', '--tag', 'nightly', '--time', '2026-11-01T02:00:00Z']);
  files['etc/nginx/nginx.conf'] = Buffer.from('worker_processes 4;\nevents { worker_connections 1024; }\n');
  files['backup/shop/items.ibd'] = pseudoRandomBytes(32 * 1024, 6);
  await writeFile(join(src, 'etc/nginx/nginx.conf'), files['etc/nginx/nginx.conf']);
  await writeFile(join(src, 'backup/shop/items.ibd'), files['backup/shop/items.ibd']);
  const second = await snap([src, '--host', 'db1', '--tag', 'nightly', '--time', '2026-11-15T02:00:00Z']);
  const third = await snap(['--stdin', 'dump.sql', '--host', 'web1', '--tag', 'weekly', '--time', '2026-12-01T02:00:00Z'], DUMP_SQL);
  return { r, src, ids: [first, second, third], files };
}
