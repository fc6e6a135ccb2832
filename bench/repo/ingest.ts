/**
 * Repository benchmark: sluice against Debian's restic and borg, same run, same data.
 *
 *   node dist/bench/repo/ingest.js [--size-mib 512] [--files 5000] [--tools sluice,restic,borg] [--keep]
 *
 * Steps, each timed per tool with /usr/bin/time (wall seconds and peak RSS):
 *   stream-1   a mixed stream (SQL text, incompressible, page-like binary) piped from stdin
 *   stream-2   the same stream with 5% of it changed
 *   tree-1     a tree of N files (mostly small, some large)
 *   tree-2     the same tree with 5% of the files changed
 *   restore    the changed stream back to stdout (to /dev/null)
 * and the repository size after each step. Throwaway repositories and caches live in a temp directory;
 * passwords are passed through the environment. Prints a table and the ratios the issue asks for.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { xorshift } from '../data/generate.js';
import { mixedStream } from './mixed-stream.js';

const SLUICE = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Args {
  sizeMiB: number;
  files: number;
  tools: string[];
  keep: boolean;
  repeat: number;
  /** Reuse (or create) the generated stream files and tree in this directory instead of a fresh temp one. */
  data: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sizeMiB: 512, files: 5000, tools: ['sluice', 'restic', 'borg'], keep: false, repeat: 1, data: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '--size-mib') args.sizeMiB = Number(next());
    else if (a === '--files') args.files = Number(next());
    else if (a === '--tools') args.tools = next().split(',');
    else if (a === '--keep') args.keep = true;
    else if (a === '--repeat') args.repeat = Number(next());
    else if (a === '--data') args.data = next();
    else if (a === '--help') {
      process.stdout.write('usage: node dist/bench/repo/ingest.js [--size-mib 512] [--files 5000] [--tools sluice,restic,borg] [--repeat 1] [--keep] [--data DIR]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

export async function writeStreamFile(path: string, size: number, change?: { fraction: number; seed: number }): Promise<void> {
  const out = createWriteStream(path);
  for await (const piece of mixedStream({ size, seed: 1, ...(change === undefined ? {} : { change }) })) {
    if (!out.write(piece)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Uniform in [0, 1), the same in every run. */
function rng(seed: number): () => number {
  const next = xorshift(seed);
  return () => next() / 2 ** 32;
}

async function fileBytes(size: number, seed: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let have = 0;
  for await (const p of mixedStream({ size, seed })) {
    parts.push(p);
    have += p.length;
    if (have >= size) break;
  }
  return Buffer.concat(parts).subarray(0, size);
}

/** N files in 50 directories: 90% small (1–16 KiB), 9.5% medium (16–256 KiB), 0.5% large (1–6 MiB). */
export async function writeTree(root: string, files: number): Promise<string[]> {
  const random = rng(7);
  const paths: string[] = [];
  for (let i = 0; i < files; i++) {
    const r = random();
    const size = r < 0.9 ? 1024 + Math.floor(random() * 15 * 1024) : r < 0.995 ? 16384 + Math.floor(random() * 240 * 1024) : (1 + Math.floor(random() * 5)) * 1024 * 1024;
    const dir = join(root, `d${i % 50}`, `s${i % 7}`);
    await mkdir(dir, { recursive: true });
    const path = join(dir, `f${i}.dat`);
    await writeFile(path, await fileBytes(size, 1000 + i));
    paths.push(path);
  }
  return paths;
}

export async function changeFiles(paths: string[], fraction: number): Promise<number> {
  const random = rng(99);
  let changed = 0;
  for (const path of paths) {
    if (random() >= fraction) continue;
    const size = (await stat(path)).size;
    await writeFile(path, await fileBytes(size, 50_000 + changed));
    const later = new Date(Date.now() + 60_000);
    await utimes(path, later, later);
    changed += 1;
  }
  return changed;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** Regular files below `root`, in the order writeTree made them (f0, f1, …). */
export async function listFiles(root: string): Promise<string[]> {
  const found: { n: number; path: string }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) found.push({ n: Number(/^f(\d+)\.dat$/.exec(entry.name)?.[1] ?? -1), path: full });
    }
  };
  await walk(root);
  return found.sort((a, b) => a.n - b.n).map((f) => f.path);
}

export async function dirSize(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += await dirSize(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

export interface Measure {
  seconds: number;
  /** User and system CPU seconds of the timed command (all its threads). */
  cpu: number;
  rssMiB: number;
}

/** Runs a shell command under /usr/bin/time; fails loudly if it fails. */
export function timed(script: string, env: NodeJS.ProcessEnv, timing: string): void {
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', script.replaceAll('TIME', `/usr/bin/time -f '%e %U %S %M' -o ${timing}`)], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`failed (${result.status}): ${script}\n${result.stderr.toString().slice(-2000)}`);
}

export async function readTiming(path: string): Promise<Measure> {
  const [seconds, user, sys, kb] = (await readFile(path, 'utf8')).trim().split(/\s+/).slice(-4).map(Number);
  return { seconds: seconds ?? Number.NaN, cpu: (user ?? Number.NaN) + (sys ?? Number.NaN), rssMiB: (kb ?? 0) / 1024 };
}

interface Tool {
  name: string;
  repo: string;
  init(): string;
  stream(file: string, name: string): string;
  tree(dir: string, name: string): string;
  restore(name: string): string;
}

function tools(work: string): Record<string, Tool> {
  return {
    sluice: {
      name: 'sluice',
      repo: join(work, 'sluice-repo'),
      init: () => `node ${SLUICE} init`,
      stream: (file) => `cat ${file} | TIME node ${SLUICE} snapshot --stdin db.sql -q`,
      tree: (dir) => `TIME node ${SLUICE} snapshot ${dir} -q`,
      restore: () => `TIME node ${SLUICE} cat latest:db.sql > /dev/null`,
    },
    restic: {
      name: 'restic',
      repo: join(work, 'restic-repo'),
      init: () => `restic init -q`,
      stream: (file) => `cat ${file} | TIME restic backup -q --stdin --stdin-filename db.sql`,
      tree: (dir) => `TIME restic backup -q ${dir}`,
      restore: () => `TIME restic dump -q latest /db.sql > /dev/null`,
    },
    borg: {
      name: 'borg',
      repo: join(work, 'borg-repo'),
      init: () => `borg init -e repokey`,
      stream: (file, name) => `cat ${file} | TIME borg create --stdin-name db.sql ::${name} -`,
      tree: (dir, name) => `TIME borg create ::${name} ${dir}`,
      restore: () => `TIME borg extract --stdout ::stream-2 db.sql > /dev/null`,
    },
  };
}

function envFor(tool: Tool, work: string): NodeJS.ProcessEnv {
  const cache = join(work, `${tool.name}-cache`);
  const passwordFile = join(work, 'password');
  return {
    ...process.env,
    SLUICE_REPO: tool.repo,
    SLUICE_PASSWORD_FILE: passwordFile,
    SLUICE_CACHE_DIR: cache,
    RESTIC_REPOSITORY: tool.repo,
    RESTIC_PASSWORD_FILE: passwordFile,
    RESTIC_CACHE_DIR: cache,
    BORG_REPO: tool.repo,
    BORG_PASSPHRASE: 'benchmark password',
    BORG_BASE_DIR: cache,
    BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
  };
}

export function version(command: string): string {
  // restic has a `version` command; borg prints with --version.
  for (const args of [['version'], ['--version']]) {
    try {
      return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0] ?? '';
    } catch {
      // try the other form
    }
  }
  return 'missing';
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const size = args.sizeMiB * 1024 * 1024;
  const work = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  process.stderr.write(`work directory ${work}\n${version('restic')} / ${version('borg')} / node ${process.version}\n`);
  await writeFile(join(work, 'password'), 'benchmark password\n');
  // Generated data: in the work directory, or kept in --data DIR between runs (named by its parameters).
  const data = args.data === undefined ? work : join(args.data, `${args.sizeMiB}m-${args.files}f`);
  await mkdir(data, { recursive: true });
  const base = join(data, 'stream-1.bin');
  const changed = join(data, 'stream-2.bin');
  const pristine = join(data, 'tree-pristine');
  if (!(await exists(join(data, 'complete')))) {
    process.stderr.write(`generating a ${args.sizeMiB} MiB mixed stream, a 5%-changed copy and a ${args.files}-file tree...\n`);
    await writeStreamFile(base, size);
    await writeStreamFile(changed, size, { fraction: 0.05, seed: 4242 });
    await rm(pristine, { recursive: true, force: true });
    await writeTree(pristine, args.files);
    await writeFile(join(data, 'complete'), '');
  }
  // The tree is changed in place by the second tree step, so each run works on a copy (times kept).
  const tree = join(work, 'tree');
  execFileSync('cp', ['-a', pristine, tree]);
  const treePaths = await listFiles(tree);
  const treeBytes = await dirSize(tree);
  const all = tools(work);
  const chosen = args.tools.map((t) => {
    const tool = all[t];
    if (tool === undefined) throw new Error(`unknown tool ${t}`);
    return tool;
  });
  type Row = { tool: string; step: string; seconds: number; cpu: number; mbps: number; repoMiB: number; rssMiB: number };
  const rows: Row[] = [];
  const timing = join(work, 'timing');
  const step = async (tool: Tool, name: string, script: string, bytes: number): Promise<void> => {
    const env = envFor(tool, work);
    timed(script, env, timing);
    const m = await readTiming(timing);
    rows.push({ tool: tool.name, step: name, seconds: m.seconds, cpu: m.cpu, mbps: bytes / 1e6 / m.seconds, repoMiB: (await dirSize(tool.repo)) / 1048576, rssMiB: m.rssMiB });
    process.stderr.write(`${tool.name.padEnd(7)} ${name.padEnd(9)} ${m.seconds.toFixed(2)} s, ${m.cpu.toFixed(2)} s CPU\n`);
  };
  for (let round = 0; round < args.repeat; round++) {
    for (const tool of chosen) {
      await rm(tool.repo, { recursive: true, force: true });
      await rm(join(work, `${tool.name}-cache`), { recursive: true, force: true });
      timed(tool.init(), envFor(tool, work), timing);
    }
    // Each step runs for every tool before the next step, so all read the same warm page cache.
    for (const tool of chosen) await step(tool, 'stream-1', tool.stream(base, 'stream-1'), size);
    for (const tool of chosen) await step(tool, 'stream-2', tool.stream(changed, 'stream-2'), size);
    for (const tool of chosen) await step(tool, 'restore', tool.restore('stream-2'), size);
    if (round === 0 && args.files > 0) {
      for (const tool of chosen) await step(tool, 'tree-1', tool.tree(tree, 'tree-1'), treeBytes);
      const n = await changeFiles(treePaths, 0.05);
      process.stderr.write(`changed ${n} of ${treePaths.length} files\n`);
      for (const tool of chosen) await step(tool, 'tree-2', tool.tree(tree, 'tree-2'), treeBytes);
    }
  }

  const out: string[] = [];
  out.push(`\nstream ${args.sizeMiB} MiB mixed (SQL text, incompressible, page-like); tree ${args.files} files, ${(treeBytes / 1048576).toFixed(0)} MiB`);
  out.push(`${'tool'.padEnd(8)}${'step'.padEnd(10)}${'seconds'.padStart(8)}${'CPU s'.padStart(8)}${'MB/s'.padStart(9)}${'repo MiB'.padStart(10)}${'RSS MiB'.padStart(9)}`);
  for (const r of rows) {
    out.push(
      `${r.tool.padEnd(8)}${r.step.padEnd(10)}${r.seconds.toFixed(2).padStart(8)}${r.cpu.toFixed(2).padStart(8)}${r.mbps.toFixed(0).padStart(9)}` +
        `${r.repoMiB.toFixed(1).padStart(10)}${r.rssMiB.toFixed(0).padStart(9)}`,
    );
  }
  const best = (tool: string, stepName: string) => {
    const list = rows.filter((r) => r.tool === tool && r.step === stepName);
    return list.length === 0 ? undefined : list.reduce((a, b) => (a.seconds <= b.seconds ? a : b));
  };
  const ratio = (stepName: string, other: string) => {
    const s = best('sluice', stepName);
    const o = best(other, stepName);
    return s === undefined || o === undefined ? 'n/a' : `${(o.seconds / s.seconds).toFixed(2)}x`;
  };
  const growth = (tool: string, a: string, b: string) => {
    const x = rows.find((r) => r.tool === tool && r.step === a);
    const y = rows.find((r) => r.tool === tool && r.step === b);
    return x === undefined || y === undefined ? Number.NaN : y.repoMiB - x.repoMiB;
  };
  out.push('');
  out.push(`throughput ratios (sluice speed / peer speed; best of ${args.repeat}):`);
  out.push(`  stream-1 vs restic ${ratio('stream-1', 'restic')} (target >= 2.0x), vs borg ${ratio('stream-1', 'borg')} (target >= 1.3x)`);
  out.push(`  stream-2 vs restic ${ratio('stream-2', 'restic')} (target >= 2.0x), vs borg ${ratio('stream-2', 'borg')}`);
  out.push(`  restore  vs restic dump ${ratio('restore', 'restic')} (target >= 1.0x), vs borg extract ${ratio('restore', 'borg')}`);
  out.push(`  tree-1   vs restic ${ratio('tree-1', 'restic')}, vs borg ${ratio('tree-1', 'borg')};  tree-2 vs restic ${ratio('tree-2', 'restic')}, vs borg ${ratio('tree-2', 'borg')}`);
  out.push('repository growth (MiB), stream-1 → stream-2 and tree-1 → tree-2:');
  for (const t of chosen) out.push(`  ${t.name.padEnd(7)} stream ${growth(t.name, 'stream-1', 'stream-2').toFixed(1)}, tree ${growth(t.name, 'tree-1', 'tree-2').toFixed(1)}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (!args.keep) await rm(work, { recursive: true, force: true });
}

// bench/s3 imports the data generators and timing helpers; only running this file runs the benchmark.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
