/**
 * Issue #2 benchmark: `sluice backup --stream` vs `mbstream -c` into /dev/null, and `sluice xbstream -x`
 * vs `mbstream -x` and `tar -x`, on the same data in the same run. Prints seconds, MB/s, peak RSS, ratios.
 *
 *   node dist/bench/stream/create-extract.js [--data DIR] [--scale 1] [--runs 3]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchData } from '../data/generate.js';
import { measure, printTable, SLUICE } from '../harness.js';

const arg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(name);
  return at > 0 ? (process.argv[at + 1] as string) : fallback;
};
const runs = Number(arg('--runs', '3'));
const data = await benchData(arg('--data', '/tmp/sluice-bench'), Number(arg('--scale', '1')));
const work = join(data.root, 'work');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const sh = (cmd: string): void => {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
};
sh(`cat ${data.tree}/*/* ${data.big}/* > /dev/null`); // warm the page cache for every contender alike

console.log(`data: ${data.files} files, ${(data.treeBytes / 2 ** 20).toFixed(0)} MiB in the tree; one ${(data.bigBytes / 2 ** 20).toFixed(0)} MiB file`);
const fileList = join(work, 'files.txt');
const dbs = readdirSync(data.tree).sort();
sh(`cd ${data.tree} && ls -1 ${dbs.join(' ')} > /dev/null && find . -type f | sed 's#^\\./##' | sort > ${fileList}`);

for (const [name, dir, bytes] of [['tree', data.tree, data.treeBytes], ['1 GiB file', data.big, data.bigBytes]] as const) {
  const files = name === 'tree' ? `$(cat ${fileList})` : 'ibdata1';
  const create = [
    measure('mbstream -c', bytes, (t) => `cd ${dir} && ${t} mbstream -c ${files} > /dev/null`, { runs }),
    measure('sluice backup --stream', bytes, (t) => `${t} ${SLUICE} backup --stream ${dir} > /dev/null`, { runs }),
    measure('sluice backup --stream --parallel=2', bytes, (t) => `${t} ${SLUICE} backup --stream --parallel=2 ${dir} > /dev/null`, { runs }),
    measure('sluice backup --stream --parallel=4', bytes, (t) => `${t} ${SLUICE} backup --stream --parallel=4 ${dir} > /dev/null`, { runs }),
  ];
  printTable(`create, ${name} -> /dev/null`, create, create[0]!);

  const xbs = join(work, 'in.xbstream');
  const tarFile = join(work, 'in.tar');
  sh(`cd ${dir} && mbstream -c ${files} > ${xbs} && tar -cf ${tarFile} . && cat ${xbs} ${tarFile} > /dev/null`);
  const out = join(work, 'out');
  const fresh = (): void => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    spawnSync('sync');
  };
  const extract = [
    measure('mbstream -x', bytes, (t) => `${t} mbstream -x -C ${out} < ${xbs}`, { runs, prepare: fresh }),
    measure('mbstream -x --parallel=2', bytes, (t) => `${t} mbstream -x -p 2 -C ${out} < ${xbs}`, { runs, prepare: fresh }),
    measure('sluice xbstream -x', bytes, (t) => `${t} ${SLUICE} xbstream -x -C ${out} < ${xbs}`, { runs, prepare: fresh }),
    measure('sluice xbstream -x --parallel=2', bytes, (t) => `${t} ${SLUICE} xbstream -x --parallel=2 -C ${out} < ${xbs}`, { runs, prepare: fresh }),
    measure('cat | sluice xbstream -x (from a pipe)', bytes, (t) => `cat ${xbs} | ${t} ${SLUICE} xbstream -x -C ${out}`, { runs, prepare: fresh }),
    measure('tar -x', bytes, (t) => `${t} tar -xf ${tarFile} -C ${out}`, { runs, prepare: fresh }),
  ];
  printTable(`extract, ${name}`, extract, extract[0]!);
}
rmSync(work, { recursive: true, force: true });
