/**
 * Issue #2 benchmark: `sluice backup --stream` vs `mbstream -c` into /dev/null, and `sluice xbstream -x`
 * vs `mbstream -x` and `tar -x`, on the same data in the same run. Prints seconds, MB/s, peak RSS, ratios.
 * Inputs are read from /dev/shm copies when it exists (see below); extraction output goes to disk.
 *
 *   node dist/bench/stream/create-extract.js [--data DIR] [--scale 1] [--runs 3]
 *   node dist/bench/stream/create-extract.js --real /dev/shm/sluice-bench [--size 1024]   (the real datadir only)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchData } from '../data/generate.js';
import { measureInTurns, printTable, SLUICE } from '../harness.js';
import { realDataFromArgs } from '../real-data/build.js';

const arg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(name);
  return at > 0 ? (process.argv[at + 1] as string) : fallback;
};
const runs = Number(arg('--runs', '3'));
const real = realDataFromArgs(process.argv);
const data = await benchData(arg('--data', '/tmp/sluice-bench'), Number(arg('--scale', real === undefined ? '1' : '0.01')));
const work = join(data.root, 'work');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const inputs = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/sluice-bench-') : work;
const sh = (cmd: string): void => {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
};
// This machine's page cache gives memory back within seconds, so data on disk is read from cache by one
// contender and from disk by the next. With /dev/shm, backups read copies held in memory (tmpfs) and
// extractions read their stream from there, so every contender reads the same way; output goes to disk.
const tree = real !== undefined ? real.tree : inputs === work ? data.tree : join(inputs, 'tree');
const big = inputs === work ? data.big : join(inputs, 'big');
if (inputs !== work && real === undefined) sh(`cp -a ${data.tree} ${tree} && cp -a ${data.big} ${big}`);
sh(`cat ${real === undefined ? `${tree}/*/* ${big}/*` : real.stream} > /dev/null`); // warm the page cache for every contender alike

if (real === undefined) console.log(`data: ${data.files} files, ${(data.treeBytes / 2 ** 20).toFixed(0)} MiB in the tree; one ${(data.bigBytes / 2 ** 20).toFixed(0)} MiB file`);
else console.log(`data: the real datadir ${real.tree}, ${real.files} files, ${(real.treeBytes / 2 ** 20).toFixed(0)} MiB`);
const fileList = join(work, 'files.txt');
const dbs = readdirSync(tree).sort();
sh(`cd ${tree} && ls -1 ${dbs.join(' ')} > /dev/null && find . -type f | sed 's#^\\./##' | sort > ${fileList}`);

const sets = real === undefined ? ([['tree', tree, data.treeBytes], ['1 GiB file', big, data.bigBytes]] as const) : ([['real datadir', tree, real.treeBytes]] as const);
for (const [name, dir, bytes] of sets) {
  const files = name === '1 GiB file' ? 'ibdata1' : `$(cat ${fileList})`;
  const create = measureInTurns([
    { label: 'mbstream -c', build: (t) => `cd ${dir} && ${t} mbstream -c ${files} > /dev/null` },
    { label: 'sluice backup --stream', build: (t) => `${t} ${SLUICE} backup --stream ${dir} > /dev/null` },
    { label: 'sluice backup --stream --parallel=2', build: (t) => `${t} ${SLUICE} backup --stream --parallel=2 ${dir} > /dev/null` },
    { label: 'sluice backup --stream --parallel=4', build: (t) => `${t} ${SLUICE} backup --stream --parallel=4 ${dir} > /dev/null` },
  ], bytes, { runs });
  printTable(`create, ${name} -> /dev/null`, create, create[0]!);

  // The streams to extract live in memory when /dev/shm is there: this machine's page cache does not keep
  // a 1 GiB file for long, and contenders measured later would otherwise read their input from disk.
  const xbs = join(inputs, 'in.xbstream');
  const tarFile = join(inputs, 'in.tar');
  sh(`cd ${dir} && mbstream -c ${files} > ${xbs} && tar -cf ${tarFile} . && cat ${xbs} ${tarFile} > /dev/null`);
  const out = join(work, 'out');
  const fresh = (): void => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    spawnSync('sync');
  };
  const extract = measureInTurns([
    { label: 'mbstream -x', build: (t) => `${t} mbstream -x -C ${out} < ${xbs}` },
    { label: 'mbstream -x --parallel=2', build: (t) => `${t} mbstream -x -p 2 -C ${out} < ${xbs}` },
    { label: 'sluice xbstream -x', build: (t) => `${t} ${SLUICE} xbstream -x -C ${out} < ${xbs}` },
    { label: 'sluice xbstream -x --parallel=2', build: (t) => `${t} ${SLUICE} xbstream -x --parallel=2 -C ${out} < ${xbs}` },
    { label: 'cat | mbstream -x (from a pipe)', build: (t) => `cat ${xbs} | ${t} mbstream -x -C ${out}` },
    { label: 'cat | sluice xbstream -x (from a pipe)', build: (t) => `cat ${xbs} | ${t} ${SLUICE} xbstream -x -C ${out}` },
    { label: 'tar -x', build: (t) => `${t} tar -xf ${tarFile} -C ${out}` },
  ], bytes, { runs, prepare: fresh });
  printTable(`extract, ${name}`, extract, extract[0]!);
}
rmSync(work, { recursive: true, force: true });
rmSync(inputs, { recursive: true, force: true });
