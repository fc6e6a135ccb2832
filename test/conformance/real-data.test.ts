/**
 * Every write path on real data, read back by the stock tools. One fixture (a datadir made by
 * `mariabackup --backup` from the local server, and edge files around every block and chunk boundary)
 * goes through every combination of container × compression × codec threads × parallel files ×
 * encryption; for each, the stream must pass `sluice verify`, be accepted by `mbstream -x` or GNU `tar -x`,
 * decode with `zstd -d`, `lz4 -d` and `age -d` (a sample of files), and decode with sluice to the source
 * tree byte for byte. The repository gets the same tree through snapshot, restore and check --read-data.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ok, sh } from '../helpers/cli.js';
import { buildRealData, digestsOf, type RealData } from '../helpers/real-data.js';
import { describeTree } from '../helpers/tree.js';
import { testRepo } from '../repo/helpers.js';

interface Combo {
  container: 'xbstream' | 'tar';
  compress?: 'zstd' | 'lz4';
  threads: number;
  parallel: number;
  encrypt: boolean;
}

const combos: Combo[] = [];
for (const container of ['xbstream', 'tar'] as const) {
  for (const compress of [undefined, 'zstd', 'lz4'] as const) {
    for (const threads of compress === undefined ? [1] : [1, 2]) {
      for (const parallel of [1, 2]) {
        for (const encrypt of [false, true]) combos.push({ container, ...(compress === undefined ? {} : { compress }), threads, parallel, encrypt });
      }
    }
  }
}

const nameOf = (c: Combo): string =>
  [c.container, c.compress ?? 'plain', `t${c.threads}`, `p${c.parallel}`, c.encrypt ? 'age' : 'clear'].join('-');

let data: RealData;
let work: string;
let identity: string;
let recipient: string;

before(async () => {
  data = await buildRealData();
  work = `${data.root}-work`;
  await mkdir(work, { recursive: true });
  identity = join(work, 'age-key.txt');
  ok(await sh(`age-keygen -o ${identity} 2>/dev/null`), 'age-keygen');
  recipient = ok(await sh(`age-keygen -y ${identity}`)).stdout.toString().trim();
});

after(async () => {
  await data?.remove();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** Relative paths of every regular file below `root`. */
async function fileNames(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

async function assertSameTree(dir: string, what: string): Promise<void> {
  const got = digestsOf(await describeTree(dir));
  const want = digestsOf(data.files);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: the same files`);
  for (const [path, sha] of want) assert.equal(got.get(path), sha, `${what}: ${path} byte for byte`);
}

async function runCombo(c: Combo): Promise<void> {
  const dir = join(work, nameOf(c));
  await mkdir(dir, { recursive: true });
  try {
    const stream = join(dir, 'stream');
    const flags = [`--stream=${c.container}`, `--parallel=${c.parallel}`];
    if (c.compress !== undefined) flags.push(`--compress=${c.compress}`, `--compress-threads=${c.threads}`);
    if (c.encrypt) flags.push('--encrypt', '--recipient', recipient);
    const backup = ok(await sh(`$SLUICE backup ${flags.join(' ')} ${data.root} > ${stream}`, { timeoutMs: 300_000 }), 'sluice backup');
    assert.doesNotMatch(backup.stderr, /error/i, 'backup says nothing is wrong');

    const suffix = (c.compress === 'zstd' ? '.zst' : c.compress === 'lz4' ? '.lz4' : '') + (c.encrypt ? '.age' : '');
    const raw = join(dir, 'raw');
    await mkdir(raw);
    const decodeFlags = [...(c.compress !== undefined ? ['--decompress'] : []), ...(c.encrypt ? ['--decrypt', '--identity', identity] : [])];
    if (c.container === 'xbstream') {
      ok(await sh(`$SLUICE verify ${stream} > /dev/null`), 'sluice verify');
      ok(await sh(`mbstream -x -C ${raw} < ${stream}`), 'mbstream -x');
      const decoded = join(dir, 'decoded');
      ok(await sh(`$SLUICE xbstream -x ${decodeFlags.join(' ')} -C ${decoded} < ${stream}`, { timeoutMs: 300_000 }), 'sluice xbstream -x');
      await assertSameTree(decoded, 'sluice xbstream -x');
      await rm(decoded, { recursive: true });
    } else {
      ok(await sh(`tar -xf ${stream} -C ${raw}`), 'tar -x');
    }
    assert.deepEqual(await fileNames(raw), data.files.map((f) => f.path + suffix).sort(), 'the stock extractor names every file');

    // the stock decoders open our files one by one
    const decoders = [...(c.encrypt ? [`age -d -i ${identity}`] : []), ...(c.compress === 'zstd' ? ['zstd -dcq'] : c.compress === 'lz4' ? ['lz4 -dcq'] : [])];
    for (const path of data.sample) {
      const pipeline = [`cat '${join(raw, path + suffix)}'`, ...decoders, 'sha256sum'].join(' | ');
      const sum = ok(await sh(pipeline), `stock tools on ${path}`).stdout.toString().split(' ')[0];
      assert.equal(sum, data.files.find((f) => f.path === path)?.sha256, `${decoders.join(' | ') || 'cat'}: ${path}`);
    }

    if (c.container === 'tar') {
      if (c.encrypt) ok(await sh(`$SLUICE decrypt ${decodeFlags.slice(1).join(' ')} ${c.compress !== undefined ? '--decompress' : ''} --remove-original ${raw}`), 'sluice decrypt');
      else if (c.compress !== undefined) ok(await sh(`$SLUICE decompress --remove-original ${raw}`), 'sluice decompress');
      await assertSameTree(raw, 'tar -x, then sluice decode in place');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test(`${combos.length} combinations of container, compression, threads, parallel files and encryption on real data`, { concurrency: 2 }, async (t) => {
  await Promise.all(combos.map((c) => t.test(nameOf(c), () => runCombo(c))));
});

test('the repository: snapshot, restore and check --read-data of the same tree', async (t) => {
  const r = await testRepo(t);
  ok(await r.run(['snapshot', data.root], { timeoutMs: 300_000 }), 'sluice snapshot');
  const target = join(work, 'restored');
  ok(await r.run(['restore', `latest:${data.root}`, '--target', target], { timeoutMs: 300_000 }), 'sluice restore');
  await assertSameTree(target, 'snapshot + restore');
  await rm(target, { recursive: true });
  ok(await r.run(['check', '--read-data'], { timeoutMs: 300_000 }), 'sluice check --read-data');

  // an xbstream of the tree, kept as a named stream, comes back byte for byte and still extracts
  const stream = join(work, 'tree.xbstream');
  ok(await sh(`$SLUICE backup --stream --compress --compress-threads=2 ${data.root} > ${stream}`), 'backup for the stream snapshot');
  ok(await r.sh(`$SLUICE snapshot --stdin tree.xbstream < ${stream}`), 'snapshot --stdin');
  const sums = ok(await r.sh(`sha256sum < ${stream}; $SLUICE cat latest:tree.xbstream | sha256sum`)).stdout.toString().split('\n');
  assert.equal(sums[0], sums[1], 'cat gives back the stream byte for byte');
  await rm(stream);
});

test('untransformed, backup --stream and xbstream -c (CRCs from the reader threads) are byte-identical to mbstream -c of the same files', async () => {
  const dir = join(work, 'identical');
  await mkdir(dir, { recursive: true });
  try {
    const ours = join(dir, 'backup.xbstream');
    ok(await sh(`$SLUICE backup --stream ${data.root} > ${ours}`, { timeoutMs: 300_000 }), 'sluice backup --stream');
    // the names in the order the walk sent them, which is the order mbstream is given them in
    const names = ok(await sh(`$SLUICE xbstream -t < ${ours}`)).stdout.toString().trim().split('\n').map((l) => l.trim().split(/\s+/).slice(1).join(' '));
    assert.deepEqual([...names].sort(), data.files.map((f) => f.path).sort(), 'every file, once');
    const list = join(dir, 'names');
    await writeFile(list, `${names.join('\n')}\n`);
    const sum = async (cmd: string): Promise<string> => ok(await sh(`cd ${data.root} && ${cmd} | sha256sum`, { timeoutMs: 300_000 }), cmd).stdout.toString();
    const theirs = await sum(`mbstream -c $(cat ${list})`);
    assert.equal(await sum(`cat ${ours}`), theirs, 'backup --stream = mbstream -c');
    assert.equal(await sum(`$SLUICE xbstream -c $(cat ${list})`), theirs, 'xbstream -c = mbstream -c');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
