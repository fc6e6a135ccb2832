/**
 * S3 benchmark: sluice against Debian's restic (0.14, S3 backend) on the same S3 server (Ceph RGW from
 * .ci/s3/start-s3-server.sh; `source /tmp/s3-server-7480/s3.env` first).
 *
 *   node dist/bench/s3/ingest.js [--size-mib 1024] [--files 3000] [--tools sluice,restic] [--upload-connections 4]
 *
 * Steps, timed with /usr/bin/time (wall seconds, CPU, peak RSS): stream-1 (a mixed stream from stdin),
 * stream-2 (the same stream again: what a nightly dump of unchanged data costs), stream-3 (5% changed),
 * restore (stream-3 to /dev/null: `sluice cat` vs `restic dump`), tree-1 and tree-2 (5% of the files
 * changed). The stored size is the sum of the objects under each tool's prefix after each step.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { S3Store } from '../../src/repo/storage/s3.js';
import { changeFiles, dirSize, listFiles, readTiming, timed, version, writeStreamFile, writeTree } from '../repo/ingest.js';

const SLUICE = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Args {
  sizeMiB: number;
  files: number;
  tools: string[];
  uploads: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sizeMiB: 1024, files: 3000, tools: ['sluice', 'restic'], uploads: 4 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '--size-mib') args.sizeMiB = Number(next());
    else if (a === '--files') args.files = Number(next());
    else if (a === '--tools') args.tools = next().split(',');
    else if (a === '--upload-connections') args.uploads = Number(next());
    else throw new Error(`unknown argument ${a} (see the comment at the top of bench/s3/ingest.ts)`);
  }
  return args;
}

interface Tool {
  name: string;
  init: string;
  stream: (file: string) => string;
  tree: (dir: string) => string;
  restore: string;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const endpoint = process.env.S3_ENDPOINT;
  if (endpoint === undefined) throw new Error('S3_ENDPOINT is not set: source the s3.env of start-s3-server.sh');
  const bucket = `sluice-bench-${randomBytes(4).toString('hex')}`;
  const work = await mkdtemp(join(tmpdir(), 'sluice-s3-bench-'));
  process.stderr.write(`work directory ${work}, bucket ${bucket}\n${version('restic')} / node ${process.version}\n`);
  await writeFile(join(work, 'password'), 'benchmark password\n');
  const size = args.sizeMiB * 1024 * 1024;
  const base = join(work, 'stream-1.bin');
  const changed = join(work, 'stream-3.bin');
  const tree = join(work, 'tree');
  process.stderr.write(`generating a ${args.sizeMiB} MiB mixed stream, a 5%-changed copy and a ${args.files}-file tree...\n`);
  await writeStreamFile(base, size);
  await writeStreamFile(changed, size, { fraction: 0.05, seed: 4242 });
  await mkdir(tree, { recursive: true });
  const treePaths = args.files > 0 ? await writeTree(tree, args.files) : [];
  const treeBytes = args.files > 0 ? await dirSize(tree) : 0;

  const tools: Record<string, Tool> = {
    sluice: {
      name: 'sluice',
      init: `node ${SLUICE} init`,
      stream: (file) => `cat ${file} | TIME node ${SLUICE} snapshot --stdin db.sql -q --upload-connections ${args.uploads}`,
      tree: (dir) => `TIME node ${SLUICE} snapshot ${dir} -q --upload-connections ${args.uploads}`,
      restore: `TIME node ${SLUICE} cat latest:db.sql > /dev/null`,
    },
    restic: {
      name: 'restic',
      init: 'restic init -q',
      stream: (file) => `cat ${file} | TIME restic backup -q --stdin --stdin-filename db.sql -o s3.connections=${args.uploads}`,
      tree: (dir) => `TIME restic backup -q ${dir} -o s3.connections=${args.uploads}`,
      restore: 'TIME restic dump -q latest /db.sql > /dev/null',
    },
  };
  const envFor = (tool: string): NodeJS.ProcessEnv => {
    const repo = `s3:${endpoint}/${bucket}/${tool}`;
    return {
      ...process.env,
      SLUICE_REPO: repo,
      SLUICE_PASSWORD_FILE: join(work, 'password'),
      SLUICE_CACHE_DIR: join(work, `${tool}-cache`),
      RESTIC_REPOSITORY: repo,
      RESTIC_PASSWORD_FILE: join(work, 'password'),
      RESTIC_CACHE_DIR: join(work, `${tool}-cache`),
    };
  };
  const store = new S3Store({ endpoint, bucket, prefix: '' }, { region: process.env.AWS_REGION ?? 'us-east-1' });
  await store.connect(true);
  const storedMiB = async (tool: string): Promise<number> => {
    let total = 0;
    for await (const info of store.list(`${tool}/`)) total += info.size;
    return total / 1048576;
  };

  type Row = { tool: string; step: string; seconds: number; cpu: number; mbps: number; storedMiB: number; rssMiB: number };
  const rows: Row[] = [];
  const timing = join(work, 'timing');
  const chosen = args.tools.map((t) => {
    const tool = tools[t];
    if (tool === undefined) throw new Error(`unknown tool ${t}`);
    return tool;
  });
  const step = async (tool: Tool, name: string, script: string, bytes: number): Promise<void> => {
    timed(script, envFor(tool.name), timing);
    const m = await readTiming(timing);
    rows.push({ tool: tool.name, step: name, seconds: m.seconds, cpu: m.cpu, mbps: bytes / 1e6 / m.seconds, storedMiB: await storedMiB(tool.name), rssMiB: m.rssMiB });
    process.stderr.write(`${tool.name.padEnd(7)} ${name.padEnd(9)} ${m.seconds.toFixed(2)} s, ${m.cpu.toFixed(2)} s CPU, ${m.rssMiB.toFixed(0)} MiB RSS\n`);
  };
  try {
    for (const tool of chosen) execFileSync('bash', ['-c', tool.init], { env: envFor(tool.name), stdio: ['ignore', 'ignore', 'inherit'] });
    for (const tool of chosen) await step(tool, 'stream-1', tool.stream(base), size);
    for (const tool of chosen) await step(tool, 'stream-2', tool.stream(base), size);
    for (const tool of chosen) await step(tool, 'stream-3', tool.stream(changed), size);
    for (const tool of chosen) await step(tool, 'restore', tool.restore, size);
    if (args.files > 0) {
      for (const tool of chosen) await step(tool, 'tree-1', tool.tree(tree), treeBytes);
      const n = await changeFiles(await listFiles(tree), 0.05);
      process.stderr.write(`changed ${n} of ${treePaths.length} files\n`);
      for (const tool of chosen) await step(tool, 'tree-2', tool.tree(tree), treeBytes);
    }
  } finally {
    const names: string[] = [];
    for await (const info of store.list('')) names.push(info.name);
    await store.deleteMany(names).catch(() => undefined);
    // restic's own objects (keys/, config) follow our name rules, so the listing above found them too.
    await store.client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    store.destroy();
    await rm(work, { recursive: true, force: true });
  }

  const out: string[] = [];
  out.push(`\nS3 at ${endpoint}; stream ${args.sizeMiB} MiB mixed; tree ${args.files} files, ${(treeBytes / 1048576).toFixed(0)} MiB; ${args.uploads} connections`);
  out.push(`${'tool'.padEnd(8)}${'step'.padEnd(10)}${'seconds'.padStart(8)}${'CPU s'.padStart(8)}${'MB/s'.padStart(9)}${'stored MiB'.padStart(12)}${'RSS MiB'.padStart(9)}`);
  for (const r of rows) {
    out.push(
      `${r.tool.padEnd(8)}${r.step.padEnd(10)}${r.seconds.toFixed(2).padStart(8)}${r.cpu.toFixed(2).padStart(8)}${r.mbps.toFixed(0).padStart(9)}` +
        `${r.storedMiB.toFixed(1).padStart(12)}${r.rssMiB.toFixed(0).padStart(9)}`,
    );
  }
  const ratio = (name: string) => {
    const s = rows.find((r) => r.tool === 'sluice' && r.step === name);
    const o = rows.find((r) => r.tool === 'restic' && r.step === name);
    return s === undefined || o === undefined ? 'n/a' : `${(o.seconds / s.seconds).toFixed(2)}x`;
  };
  out.push('', 'speed ratios, sluice / restic (target >= 2x):');
  for (const name of ['stream-1', 'stream-2', 'stream-3', 'restore', 'tree-1', 'tree-2']) out.push(`  ${name.padEnd(9)} ${ratio(name)}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
