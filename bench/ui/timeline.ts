/**
 * The web UI at scale (issue #13, item 6): a repository of 1,000 small snapshots, one of which also holds a
 * directory of 10,000 entries, served by `sluice ui`. Times the API (snapshot list cold and warm, the big
 * listing: first byte and whole) and, in Debian's chromium through playwright-core, how long the timeline
 * and the directory view take to show their first and their last row (the directory scrolled to its end).
 *
 *   node dist/bench/ui/timeline.js [--snapshots 1000] [--entries 10000] [--runs 3] [--keep DIR] [--screenshots DIR] [--s3]
 *
 * `--s3` puts the repository on the S3 server of S3_ENDPOINT (`source /tmp/s3-server-7480/s3.env`), in a
 * bucket of its own, removed at the end unless `--keep` is given.
 *
 * The repository is built in this process through the library (one worker pool for every snapshot), so a
 * thousand snapshots take seconds, not a thousand process starts. `--keep DIR` builds it there once and
 * reuses it on later runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { parseS3Location, S3Store } from '../../src/repo/storage/s3.js';
import { initRepository } from '../../src/jobs/repository/init.js';
import { openRepository } from '../../src/jobs/repository/open.js';
import { prestartSnapshotWorkers, snapshot } from '../../src/jobs/repository/snapshot.js';
import { median } from '../harness.js';

const SLUICE = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'benchmark password';
const KDF = { N: 1024, r: 8, p: 1 };

interface Args {
  snapshots: number;
  entries: number;
  runs: number;
  keep: string | undefined;
  screenshots: string | undefined;
  s3: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { snapshots: 1000, entries: 10_000, runs: 3, keep: undefined, screenshots: undefined, s3: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '--snapshots') args.snapshots = Number(next());
    else if (a === '--entries') args.entries = Number(next());
    else if (a === '--runs') args.runs = Number(next());
    else if (a === '--keep') args.keep = next();
    else if (a === '--screenshots') args.screenshots = next();
    else if (a === '--s3') args.s3 = true;
    else throw new Error(`unknown argument ${a} (see the comment at the top of bench/ui/timeline.ts)`);
  }
  return args;
}

const entryName = (i: number) => `file-${String(i).padStart(5, '0')}.dat`;

/** The repository: snapshot 0 holds the big directory and a stream, the others a stream each. */
async function build(work: string, args: Args): Promise<{ repo: string; big: string }> {
  const endpoint = process.env.S3_ENDPOINT;
  if (args.s3 && endpoint === undefined) throw new Error('--s3: S3_ENDPOINT is not set (source the s3.env of .ci/s3/start-s3-server.sh)');
  const repo = args.s3 ? `s3:${endpoint}/sluice-ui-bench-${randomBytes(4).toString('hex')}/repo` : join(work, 'repo');
  const src = join(work, 'src');
  const bigDir = join(src, 'big');
  const marker = join(work, 'built.json');
  if (existsSync(marker)) return JSON.parse(await readFile(marker, 'utf8')) as { repo: string; big: string };
  const started = performance.now();
  await mkdir(bigDir, { recursive: true });
  for (let i = 0; i < args.entries; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, args.entries - i) }, (_, j) => writeFile(join(bigDir, entryName(i + j)), `entry ${i + j}\n`)));
  }
  await initRepository({ location: repo, password: PASSWORD, kdf: KDF });
  const opened = await openRepository({ location: repo, password: PASSWORD, client: { host: 'db1', user: 'bench' } });
  const workers = prestartSnapshotWorkers(2);
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  try {
    for (let i = 0; i < args.snapshots; i++) {
      const dump = Buffer.from(`-- dump ${i}\nINSERT INTO t VALUES (${i});\n`);
      await snapshot(opened.repo, {
        ...(i === 0 ? { paths: [src] } : {}),
        streams: [{ name: 'db.sql', content: (async function* () { yield dump; })() }],
        tags: i % 7 === 0 ? ['nightly', 'weekly'] : ['nightly'],
        time: new Date(t0 + i * 3_600_000),
        workers,
      });
      if ((i + 1) % 100 === 0) process.stderr.write(`  ${i + 1} snapshots (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
    }
  } finally {
    await workers.close();
    await opened.close();
  }
  const built = { repo, big: bigDir };
  await writeFile(marker, JSON.stringify(built));
  process.stderr.write(`built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return built;
}

interface Ui {
  child: ChildProcess;
  url: string;
  base: string;
  token: string;
}

async function startUi(repo: string, work: string, cacheDir: string): Promise<Ui> {
  const passwordFile = join(work, 'password');
  await writeFile(passwordFile, `${PASSWORD}\n`);
  const child = spawn(process.execPath, [SLUICE, 'ui', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, SLUICE_REPO: repo, SLUICE_PASSWORD_FILE: passwordFile, SLUICE_PASSWORD: '', SLUICE_CACHE_DIR: cacheDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /sluice ui: (http:\/\/\S+)\n/.exec(err);
      if (m !== null) resolve(m[1] as string);
    });
    child.on('exit', (code) => reject(new Error(`sluice ui exited ${code}: ${err}`)));
  });
  const parsed = new URL(url);
  return { child, url, base: parsed.origin, token: parsed.hash.replace('#token=', '') };
}

/** Seconds to the first byte and to the last, and the body's size. */
async function timeGet(ui: Ui, path: string): Promise<{ first: number; total: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(`${ui.base}${path}`, { headers: { Authorization: `Bearer ${ui.token}` } });
  if (!res.ok || res.body === null) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  let first = 0;
  let bytes = 0;
  for await (const chunk of res.body) {
    if (first === 0) first = performance.now() - t0;
    bytes += (chunk as Uint8Array).byteLength;
  }
  return { first: first / 1000, total: (performance.now() - t0) / 1000, bytes };
}

/** Empties and deletes the bench's bucket. */
async function removeBucket(location: string): Promise<void> {
  const { bucket, endpoint } = parseS3Location(location);
  const store = new S3Store({ ...(endpoint === undefined ? {} : { endpoint }), bucket, prefix: '' });
  try {
    const names: string[] = [];
    for await (const info of store.list('')) names.push(info.name);
    await store.deleteMany(names);
    await store.client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } finally {
    store.destroy();
  }
}

/** The server's resident memory now and at its peak, MiB. */
function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** From a fresh page load to the first row, and to the last row being visible. */
async function timePage(page: Page, url: string, table: string, lastRow: string, scroll: boolean): Promise<{ first: number; last: number }> {
  await page.goto('about:blank');
  const t0 = performance.now();
  await page.goto(url);
  await page.locator(`${table} tbody tr.row`).first().waitFor();
  const first = performance.now() - t0;
  if (scroll) await page.locator('.scroller').evaluate((el) => el.scrollTo(0, el.scrollHeight));
  else await page.locator(lastRow).scrollIntoViewIfNeeded();
  await page.locator(lastRow).waitFor({ state: 'visible' });
  const last = performance.now() - t0;
  return { first: first / 1000, last: last / 1000 };
}

/** Median and best: on a machine shared with other work the best run is the closest to a quiet one. */
const fmt = (values: number[]) => `median ${median(values).toFixed(3)} s, best ${Math.min(...values).toFixed(3)} s (runs ${values.map((v) => v.toFixed(3)).join(', ')})`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const work = args.keep ?? (await mkdtemp(join(tmpdir(), 'sluice-ui-bench-')));
  await mkdir(work, { recursive: true });
  process.stderr.write(`work directory ${work}: ${args.snapshots} snapshots, a directory of ${args.entries} entries\n`);
  const { repo, big } = await build(work, args);
  const cacheDir = join(work, `cache-${process.pid}`);
  const ui = await startUi(repo, work, cacheDir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const cold = await timeGet(ui, '/api/snapshots');
    const warm: number[] = [];
    for (let i = 0; i < args.runs; i++) warm.push((await timeGet(ui, '/api/snapshots')).total);
    const snaps = (await (await fetch(`${ui.base}/api/snapshots`, { headers: { Authorization: `Bearer ${ui.token}` } })).json()) as { id: string }[];
    const oldest = (snaps[snaps.length - 1] as { id: string }).id;
    const treePath = `/api/tree?snapshot=${oldest}&path=${encodeURIComponent(big)}`;
    const treeFirst: number[] = [];
    const treeTotal: number[] = [];
    let treeBytes = 0;
    for (let i = 0; i < args.runs + 1; i++) {
      const r = await timeGet(ui, treePath);
      if (i === 0) continue; // the first read of the tree blob is not what a user waits for twice
      treeFirst.push(r.first);
      treeTotal.push(r.total);
      treeBytes = r.bytes;
    }
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(ui.url);
    await page.locator('table.timeline tbody tr.row').first().waitFor();
    const timeline = { first: [] as number[], last: [] as number[] };
    const dir = { first: [] as number[], last: [] as number[] };
    for (let i = 0; i < args.runs; i++) {
      const t = await timePage(page, `${ui.base}/#/timeline`, 'table.timeline', `table.timeline tr[data-snapshot="${oldest}"]`, true);
      timeline.first.push(t.first);
      timeline.last.push(t.last);
      const d = await timePage(page, `${ui.base}/#/browse?snapshot=${oldest}&path=${encodeURIComponent(big)}`, 'table.browser', `table.browser tr[data-name="${entryName(args.entries - 1)}"]`, true);
      dir.first.push(d.first);
      dir.last.push(d.last);
    }
    const rows = await page.locator('table.browser tbody tr.row').count();
    if (args.screenshots !== undefined) {
      await mkdir(args.screenshots, { recursive: true });
      await page.goto(`${ui.base}/#/timeline`);
      await page.locator('table.timeline tbody tr.row').first().waitFor();
      await page.screenshot({ path: join(args.screenshots, `timeline-${snaps.length}.png`) });
    }
    const mem = rssOf(ui.child.pid as number);
    console.log(`sluice ui on ${repo.startsWith('s3:') ? 'S3' : 'a local directory'}, ${snaps.length} snapshots, a directory of ${args.entries} entries (node ${process.version}, load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} CPUs)`);
    console.log(`  GET /api/snapshots, first (reads ${snaps.length} snapshot objects): ${cold.total.toFixed(3)} s, ${(cold.bytes / 1024).toFixed(0)} KiB`);
    console.log(`  GET /api/snapshots, again: ${fmt(warm)}`);
    console.log(`  GET /api/tree of ${args.entries} entries: first byte ${fmt(treeFirst)}, whole ${fmt(treeTotal)}, ${(treeBytes / 1024).toFixed(0)} KiB`);
    console.log(`  page load to the timeline's first row: ${fmt(timeline.first)}; its last row (scrolled to): ${fmt(timeline.last)}`);
    console.log(`  page load to the directory's first row: ${fmt(dir.first)}; its last row (scrolled to): ${fmt(dir.last)}`);
    console.log(`  rows in the page's DOM for the directory: ${rows}; server RSS ${mem.rss.toFixed(0)} MiB, peak ${mem.peak.toFixed(0)} MiB`);
  } finally {
    await browser.close();
    ui.child.kill('SIGINT');
    await rm(cacheDir, { recursive: true, force: true });
    if (args.keep === undefined) {
      await rm(work, { recursive: true, force: true });
      if (repo.startsWith('s3:')) await removeBucket(repo);
    }
  }
}

await main();
