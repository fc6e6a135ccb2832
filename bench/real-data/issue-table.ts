/**
 * Every row of issue 14's table in one run, on the real-data set (bench/real-data/build.ts) or on the
 * synthetic tree (bench/data/generate.ts): contenders take turns, medians, ratio = peer time / sluice
 * time (> 1: sluice is faster), the largest peak RSS of each side (GNU time around sluice or the peer's
 * tool). Inputs and extraction targets live under DIR (tmpfs); tar goes through `| cat` because GNU tar
 * skips reading file data when its output is /dev/null.
 *
 *   node dist/bench/real-data/issue-table.js --real /dev/shm/sluice-bench [--size 1024] [--runs 3]
 *   node dist/bench/real-data/issue-table.js --synthetic /dev/shm/sluice-bench [--scale 1]
 *     [--sluice OTHER/dist/src/cli/main.js] [--rows startup,create,extract,lz4,zstd,rss,repo,dump]
 *
 * The dump rows need the real data set's database (`--real`); with `--synthetic` see bench/mysql.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchData } from '../data/generate.js';
import { type Contender, type Measurement, measureInTurns, SLUICE } from '../harness.js';
import { realDataFromArgs } from './build.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback?: string): string | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : fallback;
};
const runs = Number(arg('--runs', '3'));
const sluice = arg('--sluice') === undefined ? SLUICE : `node ${arg('--sluice')}`;
const only = new Set((arg('--rows', 'startup,create,extract,lz4,zstd,rss,repo,dump') as string).split(','));
const sh = (cmd: string): string => {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd.slice(0, 300)} failed`);
  return r.stdout.toString();
};

interface DataSet {
  name: string;
  root: string;
  tree: string;
  treeBytes: number;
  stream: string;
  fileList: string;
  database?: string;
}

async function dataSet(): Promise<DataSet> {
  const real = realDataFromArgs(argv);
  if (real !== undefined) return { name: 'real', ...real };
  const dir = arg('--synthetic');
  if (dir === undefined) throw new Error('give --real DIR or --synthetic DIR');
  const data = await benchData(dir, Number(arg('--scale', '1')));
  const stream = join(data.root, 'tree.xbstream');
  const fileList = join(data.root, 'files.txt');
  sh(`cd ${data.tree} && find . -type f | sed 's#^\\./##' | sort > ${fileList}`);
  sh(`test -s ${stream} || (cd ${data.tree} && mbstream -c $(cat ${fileList}) > ${stream})`);
  return { name: 'synthetic', root: data.root, tree: data.tree, treeBytes: data.treeBytes, stream, fileList };
}

const data = await dataSet();
const work = mkdtempSync(join(data.root, 'work-'));
const out = join(work, 'out');
const ours = (label: string, command: string): Contender => ({ label, build: (t) => `${t} ${sluice} ${command}` });
const peer = (label: string, build: (t: string) => string): Contender => ({ label, build });
const fresh = (): void => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
};
const mib = (m: Measurement): string => `${(m.rssKb / 1024).toFixed(0)} MiB`;

/** Prints each row against the first (the peer or the reference); ratio = first's median / row's median. */
function report(title: string, rows: Measurement[]): void {
  const base = rows[0] as Measurement;
  console.log(`\n${title} (${data.name}, ${(data.treeBytes / 1e6).toFixed(0)} MB, median of ${runs}, in turns)`);
  for (const r of rows) {
    const ratio = r === base ? '' : `${(base.seconds / r.seconds).toFixed(2)}x`;
    console.log(`  ${r.label.padEnd(72)} ${r.seconds.toFixed(2).padStart(6)} s ${mib(r).padStart(9)} ${ratio.padStart(6)}   [${r.runs.map((s) => s.toFixed(2)).join(' ')}]`);
  }
}

const T = data.tree;
const tar = `tar -cf - -C ${T} .`;
try {
  sh(`cat ${data.stream} > /dev/null && ${tar} | cat > /dev/null`);
  if (only.has('startup')) {
    const repo = join(work, 'repo');
    const env = `SLUICE_PASSWORD=bench SLUICE_KDF=N=1024,r=8,p=1 SLUICE_CACHE_DIR=${join(work, 'cache')}`;
    const one = join(work, 'one');
    mkdirSync(one);
    writeFileSync(join(one, 'a.txt'), 'hello\n');
    sh(`${env} ${sluice} init -r ${repo} >/dev/null 2>&1 && ${env} ${sluice} snapshot -r ${repo} ${one} >/dev/null 2>&1`);
    report('start-up (goal <= 0.12 s) and a one-file backup (goal <= 0.15 s)', measureInTurns([
      peer('node -e 0', (t) => `${t} node -e 0`),
      ours('sluice --version', '--version > /dev/null'),
      peer('sluice snapshots (small repo)', (t) => `${env} ${t} ${sluice} snapshots -r ${repo} > /dev/null`),
      ours('sluice backup --stream ONE-FILE-DIR > /dev/null', `backup --stream ${one} > /dev/null`),
      peer('sluice snapshot ONE-FILE-DIR (small repo)', (t) => `${env} ${t} ${sluice} snapshot -r ${repo} ${one} > /dev/null 2>&1`),
    ], 1, { runs: Math.max(runs, 5) }));
  }
  if (only.has('create')) {
    report('create | cat: tar vs backup --stream --parallel=2 (goal >= 1.2x)', measureInTurns([
      peer('tar -cf - DIR | cat', (t) => `${t} ${tar} | cat > /dev/null`),
      ours('backup --stream --parallel=2 DIR | cat', `backup --stream --parallel=2 ${T} | cat > /dev/null`),
    ], data.treeBytes, { runs }));
    report('create > /dev/null: mbstream -c vs backup --stream --parallel=2 (goal >= 1.0x)', measureInTurns([
      peer('mbstream -c FILES > /dev/null', (t) => `cd ${T} && ${t} mbstream -c $(cat ${data.fileList}) > /dev/null`),
      ours('backup --stream --parallel=2 DIR > /dev/null', `backup --stream --parallel=2 ${T} > /dev/null`),
    ], data.treeBytes, { runs }));
  }
  if (only.has('extract')) {
    report('extract into tmpfs: mbstream -x -p 2 vs xbstream -x --parallel=2 (goal >= 1.2x)', measureInTurns([
      peer('mbstream -x --parallel=2 < STREAM', (t) => `${t} mbstream -x -p 2 -C ${out} < ${data.stream}`),
      ours('xbstream -x --parallel=2 < STREAM', `xbstream -x --parallel=2 -C ${out} < ${data.stream}`),
      peer('mbstream -x < STREAM', (t) => `${t} mbstream -x -C ${out} < ${data.stream}`),
      ours('xbstream -x < STREAM', `xbstream -x -C ${out} < ${data.stream}`),
    ], data.treeBytes, { runs, prepare: fresh }));
  }
  if (only.has('lz4')) {
    report('lz4: tar | lz4 -1 vs --compress=lz4 --compress-threads=2 (goal >= 1.5x)', measureInTurns([
      peer('tar -cf - DIR | lz4 -1 | cat', (t) => `${tar} | ${t} lz4 -q -1 | cat > /dev/null`),
      ours('backup --stream --compress=lz4 --compress-threads=2 DIR | cat', `backup --stream --compress=lz4 --compress-threads=2 ${T} | cat > /dev/null`),
    ], data.treeBytes, { runs }));
  }
  if (only.has('zstd')) {
    report('zstd: tar | zstd -1 -T2 vs --compress --compress-threads=2 (goal >= 1.2x)', measureInTurns([
      peer('tar -cf - DIR | zstd -1 -T2 | cat', (t) => `${tar} | ${t} zstd -q -1 -T2 | cat > /dev/null`),
      ours('backup --stream --compress --compress-threads=2 DIR | cat', `backup --stream --compress --compress-threads=2 ${T} | cat > /dev/null`),
    ], data.treeBytes, { runs }));
  }
  if (only.has('rss')) {
    report('peak RSS of compressed backups (goal <= 200 MiB); times against zstd', measureInTurns([
      ours('backup --stream --compress (zstd) --compress-threads=2', `backup --stream --compress --compress-threads=2 ${T} | cat > /dev/null`),
      ours('backup --stream --compress=lz4 --compress-threads=2', `backup --stream --compress=lz4 --compress-threads=2 ${T} | cat > /dev/null`),
      ours('backup --stream --compress=lz4 --compress-threads=1', `backup --stream --compress=lz4 --compress-threads=1 ${T} | cat > /dev/null`),
      ours('backup --stream --compress=lz4 --compress-threads=2 --parallel=2', `backup --stream --compress=lz4 --compress-threads=2 --parallel=2 ${T} | cat > /dev/null`),
    ], data.treeBytes, { runs }));
  }
  if (only.has('repo')) {
    const repo = join(work, 'ingest-repo');
    const env = `SLUICE_PASSWORD=bench SLUICE_KDF=N=1024,r=8,p=1 SLUICE_CACHE_DIR=${join(work, 'ingest-cache')}`;
    report('repository ingest of the stream (goal <= 200 MiB peak)', measureInTurns([
      peer('snapshot --stdin backup.xbstream < STREAM (fresh repo)', (t) => `${env} ${t} ${sluice} snapshot -r ${repo} --stdin backup.xbstream < ${data.stream} > /dev/null 2>&1`),
    ], data.treeBytes, {
      runs,
      prepare: () => {
        rmSync(repo, { recursive: true, force: true });
        rmSync(join(work, 'ingest-cache'), { recursive: true, force: true });
        sh(`${env} ${sluice} init -r ${repo} > /dev/null 2>&1`);
      },
    }));
  }
  if (only.has('dump') && data.database !== undefined) {
    const db = data.database;
    const conn = '-h 127.0.0.1 -P 3306 -u root';
    // mydumper 0.10's -c is gzip (it has no zstd), so no peer row for zstd; level 3 is the zstd tool's default.
    const [mydumper, plain, zstd, zstd3] = measureInTurns([
      peer('mydumper -t 2 -r 100000', (t) => `${t} mydumper ${conn} -B ${db} -t 2 -r 100000 --long-query-guard 999999 -o ${out}/m`),
      ours('dump -t 2', `dump ${conn} -B ${db} -t 2 -o ${out}/s 2>/dev/null`),
      ours('dump -t 2 --compress zstd (level 1)', `dump ${conn} -B ${db} -t 2 --compress zstd -o ${out}/z 2>/dev/null`),
      ours('dump -t 2 --compress zstd --compress-level 3', `dump ${conn} -B ${db} -t 2 --compress zstd --compress-level 3 -o ${out}/z 2>/dev/null`),
    ], data.treeBytes, { runs, prepare: fresh }) as [Measurement, Measurement, Measurement, Measurement];
    report('dump: mydumper -t 2 -r 100000 vs dump -t 2 (goal >= 1.25x)', [mydumper, plain]);
    report('dump --compress zstd vs plain dump (goal <= 1.5x the time: ratio >= 0.67x)', [plain, zstd, zstd3]);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
