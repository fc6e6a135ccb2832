/**
 * The real-data set of the benchmarks (issue 14), built once from the MariaDB server on 127.0.0.1:3306 and
 * cached under DIR (put it on tmpfs, e.g. /dev/shm/sluice-bench, so the page cache does not decide results):
 *
 *   database `sluice_bench_real_SIZE`: 4 sysbench-like tables (id, k, c CHAR(120), pad CHAR(60)) of text
 *     rows, 1M rows each at the default size, and `blobs`: 1,000 incompressible 100 KB BLOBs
 *   DIR/real-SIZE/backup.xbstream   `mariabackup --backup --stream=xbstream` of that database
 *   DIR/real-SIZE/tree/             the same stream extracted by `mbstream -x` (a datadir)
 *   DIR/real-SIZE/files.txt         the tree's regular files, one per line (for `mbstream -c`)
 *
 *   node dist/bench/real-data/build.js --dir /dev/shm/sluice-bench [--size 1024]
 *
 * SIZE is in MB of table data (about 1.2 GB of datadir at 1024); the database is kept on the server for
 * the dump benchmarks, and a marker row plus a marker file make a second call reuse everything.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RealBenchData {
  /** Directory holding everything below. */
  root: string;
  /** The database on the server the stream was made from. */
  database: string;
  /** The mariabackup stream. */
  stream: string;
  streamBytes: number;
  /** The extracted datadir. */
  tree: string;
  treeBytes: number;
  /** A file naming the tree's regular files (relative to tree), one per line, sorted. */
  fileList: string;
  files: number;
}

const MYSQL = 'mariadb -h 127.0.0.1 -u root';
/** The lock the test suite's mariabackup runs take: one backup at a time on this server. */
const ONE_MARIABACKUP = 'flock -w 900 /tmp/sluice-tests-mariabackup.lock';
const ROWS_PER_STATEMENT = 100_000;

function sh(cmd: string): string {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd.slice(0, 300)} failed (${r.status})`);
  return r.stdout.toString();
}

/** sysbench's `c`/`pad` shape: groups of 11 random digits joined by '-'. */
function digitGroups(n: number): string {
  return `CONCAT_WS('-', ${Array.from({ length: n }, () => "LPAD(FLOOR(RAND() * 99999999999), 11, '0')").join(', ')})`;
}

function makeDatabase(database: string, sizeMb: number, marker: string): void {
  const have = spawnSync('bash', ['-c', `${MYSQL} -N -e "SELECT note FROM ${database}.bench_info" 2>/dev/null`]).stdout?.toString().trim();
  if (have === marker) return;
  const rows = Math.max(1000, Math.round((sizeMb / 1024) * 1_000_000));
  const blobs = Math.max(10, Math.round((sizeMb / 1024) * 1000));
  console.error(`building ${database}: 4 tables of ${rows} rows, ${blobs} BLOBs of 100 KB`);
  sh(`${MYSQL} -e "DROP DATABASE IF EXISTS ${database}; CREATE DATABASE ${database}"`);
  for (let t = 1; t <= 4; t++) {
    sh(`${MYSQL} ${database} -e "CREATE TABLE sbtest${t} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', KEY k_1 (k)) ENGINE=InnoDB"`);
    for (let from = 1; from <= rows; from += ROWS_PER_STATEMENT) {
      const to = Math.min(rows, from + ROWS_PER_STATEMENT - 1);
      sh(`${MYSQL} ${database} -e "INSERT INTO sbtest${t} (id, k, c, pad) SELECT seq, FLOOR(1 + RAND() * ${rows}), ${digitGroups(10)}, ${digitGroups(5)} FROM seq_${from}_to_${to}"`);
    }
  }
  const blob = Array.from({ length: 100 }, () => 'RANDOM_BYTES(1000)').join(', ');
  sh(`${MYSQL} ${database} -e "CREATE TABLE blobs (id INT PRIMARY KEY, data MEDIUMBLOB NOT NULL) ENGINE=InnoDB"`);
  for (let from = 1; from <= blobs; from += 100) {
    sh(`${MYSQL} ${database} -e "INSERT INTO blobs SELECT seq, CONCAT(${blob}) FROM seq_${from}_to_${Math.min(blobs, from + 99)}"`);
  }
  sh(`${MYSQL} ${database} -e "CREATE TABLE bench_info (note VARCHAR(100)) ENGINE=InnoDB; INSERT INTO bench_info VALUES ('${marker}')"`);
}

/** Builds (or finds, when already complete) the real-data set of `sizeMb` under `dir`. */
export function realBenchData(dir: string, sizeMb = 1024): RealBenchData {
  const root = join(dir, `real-${sizeMb}`);
  const database = `sluice_bench_real_${sizeMb}`;
  const marker = `real-v1-${sizeMb}`;
  const stream = join(root, 'backup.xbstream');
  const tree = join(root, 'tree');
  const fileList = join(root, 'files.txt');
  const complete = join(root, marker);
  if (!existsSync(complete)) {
    makeDatabase(database, sizeMb, marker);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(tree, { recursive: true });
    const log = join(root, 'mariabackup.log');
    sh(`${ONE_MARIABACKUP} mariabackup --backup --stream=xbstream --databases='${database}' --user=root --host=127.0.0.1 --target-dir=${root}/mb-tmp > ${stream} 2> ${log}`);
    sh(`mbstream -x -C ${tree} < ${stream}`);
    sh(`cd ${tree} && find . -type f | sed 's#^\\./##' | sort > ${fileList}`);
    rmSync(join(root, 'mb-tmp'), { recursive: true, force: true });
    writeFileSync(complete, new Date().toISOString());
  }
  const files = readFileSync(fileList, 'utf8').split('\n').filter((l) => l !== '').length;
  const apparent = (path: string): number => Number(sh(`du -sb --apparent-size ${path} | cut -f1`).trim());
  return { root, database, stream, streamBytes: apparent(stream), tree, treeBytes: apparent(tree), fileList, files };
}

/** `--real DIR [--size MB]` of a benchmark's command line: the real-data set, or undefined without --real. */
export function realDataFromArgs(argv: readonly string[]): RealBenchData | undefined {
  const at = argv.indexOf('--real');
  if (at < 0) return undefined;
  const dir = argv[at + 1];
  if (dir === undefined) throw new Error('--real needs a directory (e.g. /dev/shm/sluice-bench)');
  const sizeAt = argv.indexOf('--size');
  return realBenchData(dir, sizeAt > 0 ? Number(argv[sizeAt + 1]) : 1024);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dirAt = process.argv.indexOf('--dir');
  const data = realDataFromArgs(['--real', dirAt > 0 ? (process.argv[dirAt + 1] as string) : '/dev/shm/sluice-bench', ...process.argv.slice(2)]);
  console.log(JSON.stringify(data, null, 2));
}
