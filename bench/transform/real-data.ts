/**
 * Compressed and encrypted backups of a real tree (a mariabackup datadir) against the stock pipes, the
 * contenders taking turns, optionally against an earlier build of sluice to show what a change costs:
 *
 *   tar -cf - DIR | zstd -1 -T2  |  sluice backup --stream --compress --compress-threads=2 [--parallel=2]
 *   tar -cf - DIR | lz4 -1       |  sluice backup --stream --compress=lz4 --compress-threads=2
 *   sluice ... --encrypt --recipient R
 *
 *   node dist/bench/transform/real-data.js --tree DIR [--before OLD/dist/src/cli/main.js] [--runs 3]
 *   node dist/bench/transform/real-data.js --real /dev/shm/sluice-bench [--size 1024] ...   (bench/real-data/build.ts's tree)
 *
 * Make DIR with `mariabackup --backup --target-dir=DIR` (the conformance test's fixture is one), and put it
 * on tmpfs so the page cache does not decide the result. Every output goes through `| wc -c`, so tar
 * reads file data (GNU tar skips it when writing to /dev/null).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Contender, mbps, measureInTurns, SLUICE } from '../harness.js';
import { realDataFromArgs } from '../real-data/build.js';

const arg = (name: string, fallback?: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const tree = arg('--tree') ?? realDataFromArgs(process.argv)?.tree;
if (tree === undefined) throw new Error('--tree DIR (a mariabackup --backup target dir) or --real DIR is required');
const before = arg('--before');
const runs = Number(arg('--runs', '3'));
const work = mkdtempSync(join(tmpdir(), 'sluice-bench-real-'));
const sh = (cmd: string): string => {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
  return r.stdout.toString();
};
const bytes = Number(sh(`du -sb --apparent-size ${tree} | cut -f1`).trim());
sh(`tar -cf - -C ${tree} . | cat > /dev/null`);
sh(`age-keygen -o ${work}/key.txt 2>/dev/null`);
const recipient = (/public key: (age1[0-9a-z]+)/.exec(readFileSync(join(work, 'key.txt'), 'utf8')) as RegExpExecArray)[1] as string;

const sluices: [string, string][] = [['sluice', SLUICE], ...(before === undefined ? [] : ([['before', `node ${before}`]] as [string, string][]))];
const contender = (label: string, command: string): Contender => ({ label, build: (t) => `${t} ${command} | wc -c > /dev/null` });

function section(title: string, peer: Contender, flags: string[]): void {
  // the build before the December 2026 CRC fix crashes on --encrypt of large files: it runs the rest only
  const runsOn = (name: string, f: string): boolean => name === 'sluice' || !f.includes('--encrypt');
  const contenders = [
    peer,
    ...flags.flatMap((f) => sluices.filter(([name]) => runsOn(name, f)).map(([name, bin]) => contender(`${name} backup ${f}`, `${bin} backup ${f} ${tree}`))),
  ];
  const rows = measureInTurns(contenders, bytes, { runs });
  const base = rows[0];
  if (base === undefined) return;
  console.log(`\n${title}: ${(bytes / 1e6).toFixed(0)} MB, median of ${runs}, contenders in turns; ratio = peer time / this time`);
  for (const r of rows) {
    console.log(`${r.label.padEnd(92)} ${r.seconds.toFixed(2).padStart(6)} s ${mbps(r).toFixed(0).padStart(5)} MB/s ${`${(r.rssKb / 1024).toFixed(0)} MiB`.padStart(8)} ${(base.seconds / r.seconds).toFixed(2)}x`);
  }
}

try {
  section('zstd', contender('tar -cf - DIR | zstd -1 -T2', `tar -cf - -C ${tree} . | zstd -q -1 -T2`), [
    '--stream --compress --compress-threads=2',
    '--stream --compress --compress-threads=2 --parallel=2',
    `--stream --compress --compress-threads=2 --encrypt --recipient ${recipient}`,
  ]);
  section('lz4', contender('tar -cf - DIR | lz4 -1', `tar -cf - -C ${tree} . | lz4 -q -1`), ['--stream --compress=lz4 --compress-threads=2', '--stream --compress=lz4']);
  section('plain', contender('tar -cf - DIR | cat', `tar -cf - -C ${tree} . | cat`), ['--stream --parallel=2', '--stream=tar']);
} finally {
  rmSync(work, { recursive: true, force: true });
}
