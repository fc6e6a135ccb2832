/**
 * Issue #3 benchmark: compressed (and encrypted) streaming backups against the peers, on the issue #2
 * data set, in the same run:
 *
 *   sluice backup --stream --compress --compress-threads=2   vs  tar -cf - DIR | zstd -1 -T2
 *                                                             vs  mbstream -c FILES | zstd -1 -T2
 *   sluice backup --stream --compress=lz4 --compress-threads=2  vs  tar -cf - DIR | lz4 -1
 *   each sluice run again with --encrypt (age, one X25519 recipient)
 *
 * Prints seconds, MB/s of input, peak RSS, compressed size and ratios. Targets: at least 1.0x the
 * throughput of `tar | zstd -1 -T2` with a size within 2%; encryption costs at most 15% throughput.
 *
 *   node dist/bench/transform/compress.js [--data DIR] [--scale 1] [--runs 2] [--only tree|big]
 *   node dist/bench/transform/compress.js --real /dev/shm/sluice-bench [--size 1024]   (the real datadir only)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchData } from '../data/generate.js';
import { type Measurement, mbps, measure, SLUICE } from '../harness.js';
import { realDataFromArgs } from '../real-data/build.js';

const arg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(name);
  return at > 0 ? (process.argv[at + 1] as string) : fallback;
};
const runs = Number(arg('--runs', '2'));
const only = arg('--only', '');
const real = realDataFromArgs(process.argv);
const data = await benchData(arg('--data', '/tmp/sluice-bench'), Number(arg('--scale', real === undefined ? '1' : '0.01')));
const work = join(data.root, 'work-transform');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const sh = (cmd: string): string => {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
  return r.stdout.toString();
};
sh(real === undefined ? `cat ${data.tree}/*/* ${data.big}/* > /dev/null` : `cat ${real.stream} > /dev/null`); // warm the page cache for every contender alike
sh(`age-keygen -o ${work}/key.txt 2>/dev/null`);
const recipient = (/public key: (age1[0-9a-z]+)/.exec(readFileSync(join(work, 'key.txt'), 'utf8')) as RegExpExecArray)[1] as string;
const sizeFile = join(work, 'size');
const fileList = join(work, 'files.txt');
sh(`cd ${real?.tree ?? data.tree} && find . -type f | sed 's#^\\./##' | sort > ${fileList}`);

interface Row extends Measurement {
  outBytes: number;
}

function run(label: string, bytes: number, build: (time: string) => string): Row {
  const m = measure(label, bytes, (t) => `${build(t)} | wc -c > ${sizeFile}`, { runs });
  return { ...m, outBytes: Number(readFileSync(sizeFile, 'utf8').trim()) };
}

function table(title: string, rows: Row[], baseline: Row): void {
  console.log(`\n${title}`);
  console.log(
    `${'command'.padEnd(66)} ${'seconds'.padStart(7)} ${'MB/s'.padStart(6)} ${'vs base'.padStart(7)} ${'peak RSS'.padStart(9)} ${'output MB'.padStart(9)} ${'ratio'.padStart(6)} ${'size vs base'.padStart(12)}`,
  );
  for (const r of rows) {
    const speed = baseline.seconds / r.seconds;
    const size = (r.outBytes / baseline.outBytes - 1) * 100;
    console.log(
      `${r.label.padEnd(66)} ${r.seconds.toFixed(2).padStart(7)} ${mbps(r).toFixed(0).padStart(6)} ${`${speed.toFixed(2)}x`.padStart(7)} ${`${(r.rssKb / 1024).toFixed(0)} MiB`.padStart(9)} ${(r.outBytes / 1e6).toFixed(1).padStart(9)} ${(r.outBytes / r.bytes).toFixed(3).padStart(6)} ${`${size >= 0 ? '+' : ''}${size.toFixed(2)}%`.padStart(12)}`,
    );
  }
}

function cost(plain: Row, encrypted: Row): string {
  return `${((1 - mbps(encrypted) / mbps(plain)) * 100).toFixed(1)}%`;
}

console.log(`data: ${data.files} files, ${(data.treeBytes / 2 ** 20).toFixed(0)} MiB in the tree; one ${(data.bigBytes / 2 ** 20).toFixed(0)} MiB file; ${runs} runs each, median`);
const sets =
  real === undefined
    ? ([
        ['tree', 'tree', data.tree, data.treeBytes, `$(cat ${fileList})`],
        ['big', '1 GiB file', data.big, data.bigBytes, 'ibdata1'],
      ] as const)
    : ([['tree', 'real datadir', real.tree, real.treeBytes, `$(cat ${fileList})`]] as const);
for (const [key, name, dir, bytes, files] of sets) {
  if (only !== '' && key !== only) continue;
  const zstd = [
    run('tar -cf - DIR | zstd -1 -T2', bytes, (t) => `tar -cf - -C ${dir} . | ${t} zstd -q -1 -T2`),
    run('mbstream -c FILES | zstd -1 -T2', bytes, (t) => `(cd ${dir} && mbstream -c ${files}) | ${t} zstd -q -1 -T2`),
    run('sluice backup --stream --compress --compress-threads=2', bytes, (t) => `${t} ${SLUICE} backup --stream --compress --compress-threads=2 ${dir}`),
    run('sluice ... --compress-threads=2 --parallel=2', bytes, (t) => `${t} ${SLUICE} backup --stream --compress --compress-threads=2 --parallel=2 ${dir}`),
    run('sluice ... --compress-threads=2 --encrypt --recipient R', bytes, (t) => `${t} ${SLUICE} backup --stream --compress --compress-threads=2 --encrypt --recipient ${recipient} ${dir}`),
    run('sluice ... --compress-threads=2 --parallel=2 --encrypt --recipient R', bytes, (t) => `${t} ${SLUICE} backup --stream --compress --compress-threads=2 --parallel=2 --encrypt --recipient ${recipient} ${dir}`),
  ];
  table(`zstd, ${name} (${(bytes / 1e6).toFixed(0)} MB)`, zstd, zstd[0] as Row);
  console.log(`encryption cost: ${cost(zstd[2] as Row, zstd[4] as Row)} (--parallel=1), ${cost(zstd[3] as Row, zstd[5] as Row)} (--parallel=2)`);

  const lz4 = [
    run('tar -cf - DIR | lz4 -1', bytes, (t) => `tar -cf - -C ${dir} . | ${t} lz4 -q -1`),
    run('sluice backup --stream --compress=lz4 --compress-threads=2', bytes, (t) => `${t} ${SLUICE} backup --stream --compress=lz4 --compress-threads=2 ${dir}`),
    run('sluice ... --compress=lz4 --compress-threads=2 --encrypt --recipient R', bytes, (t) => `${t} ${SLUICE} backup --stream --compress=lz4 --compress-threads=2 --encrypt --recipient ${recipient} ${dir}`),
  ];
  table(`lz4, ${name}`, lz4, lz4[0] as Row);
  console.log(`encryption cost: ${cost(lz4[1] as Row, lz4[2] as Row)}`);
}
rmSync(work, { recursive: true, force: true });
