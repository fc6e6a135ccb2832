/**
 * Issue 14, start-up rows: how long the CLI takes before it does anything, against a bare `node -e 0`.
 * Contenders take turns (run 1 of each, then run 2 of each, ...); medians of wall time (around the whole
 * run, the shell and GNU time included, as for `node -e 0`) and CPU time (user + sys, GNU time), the
 * largest peak RSS. On a shared machine CPU time is the steadier of the two.
 *
 *   node dist/bench/startup/startup.js [--runs 11] [--before OTHER/dist/src/cli/main.js] [--dir DIR]
 *
 * With --before, every sluice row is also run with that build, in the same turns, and the ratio
 * before/after is printed. The small repository and the one-file directory are made under DIR (default: a
 * temporary directory on tmpfs when /dev/shm exists), with a cheap KDF so scrypt is not what is timed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../harness.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback?: string): string | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : fallback;
};
const runs = Number(arg('--runs', '11'));
const after = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const before = arg('--before');

const root = mkdtempSync(join(arg('--dir') ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'sluice-startup-'));
const sh = (cmd: string): void => {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
};

try {
  const repo = join(root, 'repo');
  const one = join(root, 'one');
  mkdirSync(one);
  writeFileSync(join(one, 'a.txt'), 'hello\n');
  const env = `SLUICE_PASSWORD=bench SLUICE_KDF=N=1024,r=8,p=1 SLUICE_CACHE_DIR=${join(root, 'cache')}`;
  sh(`${env} node ${after} init -r ${repo} >/dev/null 2>&1 && ${env} node ${after} snapshot -r ${repo} ${one} >/dev/null 2>&1`);

  const rows: { label: string; command: string }[] = [
    { label: 'sluice --version', command: '--version' },
    { label: 'sluice --help', command: '--help' },
    { label: 'sluice snapshots (small repo)', command: `snapshots -r ${repo}` },
    { label: 'sluice backup --stream ONE-FILE-DIR', command: `backup --stream ${one}` },
    { label: 'sluice backup --stream --compress ONE-FILE-DIR', command: `backup --stream --compress ${one}` },
  ];
  const builds = before === undefined ? [['', after]] : [['before', before], ['after', after]];
  const contenders: Contender[] = [{ label: 'node -e 0', command: 'node -e 0' }];
  for (const row of rows) {
    for (const [tag, cli] of builds) {
      contenders.push({ label: tag === '' ? row.label : `${row.label} [${tag}]`, command: `node ${cli} ${row.command}` });
    }
  }
  const results = inTurns(contenders, runs, env, join(root, 'time'));
  const node = results[0] as Result;
  const byLabel = new Map(results.map((r) => [r.label, r]));
  console.log(`start-up, medians of ${runs} runs in turns (goals: --version and snapshots <= 0.12 s, one-file backup <= 0.15 s)`);
  console.log(`  ${'command'.padEnd(56)} ${'wall s'.padStart(7)} ${'- node'.padStart(7)} ${'cpu s'.padStart(7)} ${'peak RSS'.padStart(9)} ${'before/after wall, cpu'.padStart(23)}`);
  for (const r of results) {
    const pair = r.label.endsWith(' [after]') ? byLabel.get(r.label.replace(' [after]', ' [before]')) : undefined;
    const ratio = pair === undefined ? '' : `${(pair.wall / r.wall).toFixed(2)}x, ${(pair.cpu / r.cpu).toFixed(2)}x`;
    const overNode = r === node ? '' : `+${(r.wall - node.wall).toFixed(3)}`;
    console.log(
      `  ${r.label.padEnd(56)} ${r.wall.toFixed(3).padStart(7)} ${overNode.padStart(7)} ${r.cpu.toFixed(3).padStart(7)} ${`${(r.rssKb / 1024).toFixed(0)} MiB`.padStart(9)} ${ratio.padStart(23)}`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

interface Contender {
  label: string;
  command: string;
}

interface Result {
  label: string;
  wall: number;
  cpu: number;
  rssKb: number;
}

/** Runs each contender once per turn, `runs` turns, output to /dev/null; GNU time's own figures. */
function inTurns(contenders: readonly Contender[], runs: number, env: string, timeFile: string): Result[] {
  const samples = contenders.map(() => ({ wall: [] as number[], cpu: [] as number[], rssKb: 0 }));
  for (let turn = 0; turn <= runs; turn++) {
    contenders.forEach(({ label, command }, i) => {
      const started = performance.now();
      const r = spawnSync('bash', ['-c', `${env} /usr/bin/time -f '%U %S %M' -o ${timeFile} ${command} > /dev/null 2>&1`], { stdio: 'ignore' });
      const wall = (performance.now() - started) / 1000; // GNU time's own is in hundredths
      if (r.status !== 0) throw new Error(`${label} failed (${r.status}): ${command}`);
      if (turn === 0) return; // the warm-up turn fills the page cache
      const [user, sys, rss] = (readFileSync(timeFile, 'utf8').trim().split('\n').pop() as string).split(' ').map(Number);
      const s = samples[i] as (typeof samples)[number];
      s.wall.push(wall);
      s.cpu.push((user as number) + (sys as number));
      s.rssKb = Math.max(s.rssKb, rss as number);
    });
  }
  return contenders.map(({ label }, i) => {
    const s = samples[i] as (typeof samples)[number];
    return { label, wall: median(s.wall), cpu: median(s.cpu), rssKb: s.rssKb };
  });
}
