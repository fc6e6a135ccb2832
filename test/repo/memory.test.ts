/**
 * Peak memory of a backup into the repository does not grow with its input: the chunk slots (each
 * chunk sealed in its own slot), the packs (written out as they fill) bound it. Each path runs on N and
 * 4N bytes through the CLI under /usr/bin/time, which reports the peak RSS of the process; the 4N run
 * may use at most a small margin more than the N run.
 *
 * Inputs are incompressible, so every chunk is new, sealed and written, with runs of zeros between
 * them (a datadir's free pages): those make chunks of the chunker's maximum, the worst case for the
 * slots, in both runs, so the N run already reaches what the slots can hold.
 * The compressed stream backups (zstd and lz4, 1 and 2 threads) are checked the same way in
 * test/transform/backup-memory.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { SLUICE_JS } from '../helpers/cli.js';
import { type TestRepo, testRepo } from './helpers.js';

const MiB = 1024 * 1024;
/** Growth allowed from N to 4N: slot pages fill as larger chunks land in them, and the collector's timing. */
const MARGIN = 32 * MiB;
/**
 * docs/architecture.md (the repository's memory): about 150 MiB with the tests' cheap KDF (the real
 * one adds its 64 MiB before the workers get going); the rest is headroom for a busy machine.
 */
const CAP = 230 * MiB;

const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;

async function peakRss(r: TestRepo, command: string): Promise<number> {
  const res = await r.sh(`/usr/bin/time -f 'peak %M' node '${SLUICE_JS}' ${command}`, { timeoutMs: 120_000 });
  assert.equal(res.status, 0, res.stderr);
  const m = /peak (\d+)\s*$/.exec(res.stderr);
  assert.ok(m !== null, `no peak RSS in: ${res.stderr}`);
  return Number(m[1]) * 1024;
}

/** A group: 4 MiB of random bytes, then 8 MiB of zeros (so every group makes a chunk of the 8 MiB maximum). */
const GROUP = 12 * MiB;

/** `groups` groups into `file`. */
function dataScript(file: string, groups: number): string {
  return `for g in $(seq 1 ${groups}); do head -c ${4 * MiB} /dev/urandom; head -c ${8 * MiB} /dev/zero; done > '${file}'`;
}

function checkFlat(t: { diagnostic(m: string): void }, what: string, bytes: number, one: number, four: number): void {
  t.diagnostic(`${what}: peak RSS ${mib(one)} for ${mib(bytes)}, ${mib(four)} for ${mib(4 * bytes)}`);
  assert.ok(four - one <= MARGIN, `${what}: peak RSS grew from ${mib(one)} to ${mib(four)} for 4x the input`);
  assert.ok(four <= CAP, `${what}: peak RSS ${mib(four)} is over ${mib(CAP)}`);
}

test('snapshot --stdin: 4x the input adds at most a small margin, and stays under a cap', async (t) => {
  const r = await testRepo(t);
  const big = join(r.dir, 'big.bin');
  const small = join(r.dir, 'small.bin');
  const made = await r.sh(`${dataScript(big, 32)} && head -c ${8 * GROUP} '${big}' > '${small}'`);
  assert.equal(made.status, 0, made.stderr);
  const one = await peakRss(r, `snapshot -q --stdin small < '${small}'`);
  const four = await peakRss(r, `snapshot -q --stdin big < '${big}'`);
  checkFlat(t, 'stdin', 8 * GROUP, one, four);
  const listed = await r.run(['snapshots', '--json']);
  assert.equal(JSON.parse(listed.stdout.toString()).length, 2, 'both backups are committed');
  const back = await r.sh(`node '${SLUICE_JS}' cat latest:/big | cmp - '${big}'`);
  assert.equal(back.status, 0, `the stream reads back: ${back.stderr}`);
});

/**
 * The same tree shape at both sizes (8 large files of 24 or 96 MiB, as many as a snapshot streams at once, and 64 small
 * ones stored in batches on the workers), only the large files 4x larger: memory may depend on how many
 * files are in flight, never on their size.
 */
test('snapshot DIR: a tree of 4x the bytes adds at most a small margin', async (t) => {
  const r = await testRepo(t);
  const tree = async (name: string, groups: number): Promise<string> => {
    const dir = join(r.dir, name);
    await mkdir(dir);
    const made = await r.sh(
      `cd '${dir}' && for i in $(seq 1 8); do ${dataScript(`table$i.ibd`, groups)}; done && for i in $(seq 1 64); do head -c $((i * 4000)) /dev/urandom > small$i.frm; done`,
    );
    assert.equal(made.status, 0, made.stderr);
    return dir;
  };
  // Two groups per file in the N run: with one, a loaded machine finished it before the slots had filled
  // (138 MiB against 175 MiB for 4N in one CI run; 195-210 MiB for both on a quieter one).
  const small = await tree('small', 2);
  const big = await tree('big', 8);
  const one = await peakRss(r, `snapshot -q '${small}'`);
  const four = await peakRss(r, `snapshot -q '${big}'`);
  checkFlat(t, 'tree', 16 * GROUP, one, four);
  const back = await r.sh(`node '${SLUICE_JS}' restore latest --target '${r.dir}/back' && diff -r '${big}' '${r.dir}/back${big}'`);
  assert.equal(back.status, 0, `the tree restores: ${back.stderr}`);
});
