/** Runs shell commands for benchmarks: median wall time of N runs and peak RSS, and prints tables of ratios. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SLUICE = `node ${fileURLToPath(new URL('../src/cli/main.js', import.meta.url))}`;

export interface Measurement {
  label: string;
  /** Median wall time of the runs. */
  seconds: number;
  /** Every run's wall time, in order. */
  runs: number[];
  /** Largest peak RSS of the measured command over the runs, KiB. */
  rssKb: number;
  bytes: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Runs `command` (bash) `runs` times after `prepare`: the median time, the largest peak RSS. The command's
 * peak RSS comes from GNU time wrapped around `measured` (the part of the pipeline that is ours or the peer's).
 */
export function measure(label: string, bytes: number, build: (time: string) => string, options: { runs?: number; prepare?: () => void } = {}): Measurement {
  const scratch = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const rssFile = join(scratch, 'rss');
  const time = `/usr/bin/time -f %M -o ${rssFile}`;
  const times: number[] = [];
  let rssKb = 0;
  try {
    for (let i = 0; i < (options.runs ?? 3); i++) {
      options.prepare?.();
      const started = performance.now();
      const result = spawnSync('bash', ['-o', 'pipefail', '-c', build(time)], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
      const seconds = (performance.now() - started) / 1000;
      if (result.status !== 0) throw new Error(`${label} failed (${result.status}): ${result.stderr.toString().slice(-2000)}`);
      times.push(seconds);
      rssKb = Math.max(rssKb, Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { label, seconds: median(times), runs: times, rssKb, bytes };
}

export interface Contender {
  label: string;
  build: (time: string) => string;
}

/**
 * Like `measure` for several contenders, taking turns: run 1 of each, then run 2 of each, and so on, so a
 * disk or page cache that changes speed during the benchmark affects every contender alike. Gives each
 * contender's median time and largest peak RSS.
 */
export function measureInTurns(contenders: Contender[], bytes: number, options: { runs?: number; prepare?: () => void } = {}): Measurement[] {
  const all = new Map<string, Measurement[]>(contenders.map(({ label }) => [label, []]));
  for (let i = 0; i < (options.runs ?? 3); i++) {
    for (const { label, build } of contenders) all.get(label)?.push(measure(label, bytes, build, { runs: 1, prepare: options.prepare }));
  }
  return contenders.map(({ label }) => {
    const ms = all.get(label) as Measurement[];
    const times = ms.map((m) => m.seconds);
    return { label, seconds: median(times), runs: times, rssKb: Math.max(...ms.map((m) => m.rssKb)), bytes };
  });
}

export function mbps(m: Measurement): number {
  return m.bytes / 1e6 / m.seconds;
}

export function printTable(title: string, rows: Measurement[], baseline: Measurement): void {
  console.log(`\n${title}`);
  console.log(`${'command'.padEnd(58)} ${'median s'.padStart(8)} ${'MB/s'.padStart(8)} ${'peak RSS'.padStart(10)} ${'vs ' + baseline.label.split(' ')[0]}`);
  for (const r of rows) {
    const ratio = baseline.seconds / r.seconds;
    console.log(`${r.label.padEnd(58)} ${r.seconds.toFixed(2).padStart(8)} ${mbps(r).toFixed(0).padStart(8)} ${`${(r.rssKb / 1024).toFixed(0)} MiB`.padStart(10)} ${ratio.toFixed(2)}x`);
  }
}
