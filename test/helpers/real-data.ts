/**
 * The real-data fixture of the conformance matrix: a datadir made by `mariabackup --backup` from the
 * MariaDB server on 127.0.0.1:3306 (InnoDB tables of text rows and of incompressible BLOBs, in a database
 * of its own), beside synthetic edge files: random data of sizes around every block and chunk boundary
 * of the writers, the 40,246,880-byte file (a real ib_logfile0's size) that once got bad CRCs, all-zero,
 * sparse, compressible text, empty and one-byte files.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ok, ONE_MARIABACKUP, sh } from './cli.js';
import { describeTree, type TreeItem } from './tree.js';

const MYSQL = 'mariadb -h 127.0.0.1 -u root';
const MiB = 1 << 20;

/** Boundaries: age STREAM chunk (64 KiB), age batch (2 MiB), codec block (4 MiB), xbstream chunk (10 MiB). */
export const EDGE_SIZES: readonly number[] = [
  0,
  1,
  64 * 1024 - 1,
  64 * 1024 + 1,
  2 * MiB - 1,
  2 * MiB + 1,
  4 * MiB - 1,
  4 * MiB,
  4 * MiB + 1,
  10 * MiB - 1,
  10 * MiB,
  10 * MiB + 1,
  32 * MiB + 12_345,
  40_246_880,
];

export interface RealData {
  /** The tree every combination backs up: `datadir/` (mariabackup's target dir) and `edge/`. */
  root: string;
  /** Every regular file of the tree with its SHA-256. */
  files: TreeItem[];
  /** A few paths (relative to root) the stock tools decode one by one. */
  sample: string[];
  remove(): Promise<void>;
}

/** Writes `size` bytes from `next(n)` in 1 MiB pieces, never holding the file in memory. */
async function writeGenerated(path: string, size: number, next: (n: number) => Uint8Array): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (let at = 0; at < size; at += MiB) await file.write(next(Math.min(MiB, size - at)));
  } finally {
    await file.close();
  }
}

async function makeEdgeFiles(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const size of EDGE_SIZES) await writeGenerated(join(dir, `random-${size}.bin`), size, (n) => randomBytes(n));
  await writeGenerated(join(dir, 'zeros-5M.bin'), 5 * MiB + 7, (n) => new Uint8Array(n));
  const line = Buffer.from('INSERT INTO t VALUES (1, "compressible text, repeated"), (2, "more of it");\n');
  await writeGenerated(join(dir, 'text-6M.sql'), 6 * MiB + 3, (n) => Buffer.alloc(n, line));
  // sparse: 12 MiB with 1 MiB of random data at 6 MiB, the rest holes
  const sparse = await open(join(dir, 'sparse-12M.bin'), 'w');
  try {
    await sparse.write(randomBytes(MiB), 0, MiB, 6 * MiB);
    await sparse.truncate(12 * MiB);
  } finally {
    await sparse.close();
  }
}

async function makeDatadir(target: string, db: string): Promise<void> {
  const blobExpr = Array.from({ length: 100 }, () => 'RANDOM_BYTES(1000)').join(', ');
  ok(
    await sh(
      `${MYSQL} -e "CREATE DATABASE ${db}; USE ${db};
        CREATE TABLE ${db}.texts (id INT PRIMARY KEY, k INT, c VARCHAR(120), pad TEXT, KEY (k)) ENGINE=InnoDB;
        INSERT INTO ${db}.texts SELECT seq, seq % 1000, CONCAT(MD5(seq), '-', SHA1(seq)), REPEAT(CONCAT(MD5(seq * 7), ' '), 4) FROM seq_1_to_60000;
        CREATE TABLE ${db}.blobs (id INT PRIMARY KEY, data MEDIUMBLOB) ENGINE=InnoDB;
        INSERT INTO ${db}.blobs SELECT seq, CONCAT(${blobExpr}) FROM seq_1_to_200;"`,
      { timeoutMs: 300_000 },
    ),
    'create the fixture database',
  );
  // mariabackup has crashed (SIGSEGV) under other tests' concurrent DDL: try again before giving up.
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    await rm(target, { recursive: true, force: true });
    const res = await sh(`${ONE_MARIABACKUP} mariabackup --backup --databases='${db}' --target-dir=${target} --user=root --host=127.0.0.1 2>${target}.log`, {
      timeoutMs: 600_000,
    });
    if (res.status === 0) return;
    last = (await sh(`tail -n 20 ${target}.log`)).stdout.toString();
  }
  throw new Error(`mariabackup --backup failed 3 times:\n${last}`);
}

/** Builds the fixture in a fresh directory (on tmpfs when the machine has one, like the benches). */
export async function buildRealData(): Promise<RealData> {
  const base = await sh('test -d /dev/shm && test -w /dev/shm && echo /dev/shm || true');
  const parent = base.stdout.toString().trim() || tmpdir();
  const root = join(parent, `sluice-real-${randomBytes(4).toString('hex')}`);
  const db = `sluice_real_${randomBytes(4).toString('hex')}`;
  try {
    await makeEdgeFiles(join(root, 'edge'));
    await makeDatadir(join(root, 'datadir'), db);
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  } finally {
    await sh(`${MYSQL} -e 'DROP DATABASE IF EXISTS ${db}'`);
  }
  const files = (await describeTree(root)).filter((i) => i.kind === 'file');
  const ibd = files.find((f) => f.path.endsWith('/blobs.ibd') || f.path.endsWith('/blobs.new'));
  const sample = ['edge/random-40246880.bin', 'edge/random-0.bin', 'edge/sparse-12M.bin', 'datadir/ibdata1', ...(ibd === undefined ? [] : [ibd.path])];
  return { root, files, sample, remove: () => rm(root, { recursive: true, force: true }) };
}

/** A tree as a path → SHA-256 map, for comparing a restored tree with the fixture. */
export function digestsOf(items: readonly TreeItem[]): Map<string, string | undefined> {
  return new Map(items.filter((i) => i.kind === 'file').map((i) => [i.path, i.sha256]));
}
