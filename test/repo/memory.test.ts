/**
 * Peak memory of a backup does not grow with its input: the chunk slots, the packs (written out as they
 * fill) and the sealed chunks (freed once written) bound it. Incompressible data, so every chunk is new,
 * sealed, and written. Run through the CLI under /usr/bin/time, which reports the peak RSS of the process.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SLUICE_JS } from '../helpers/cli.js';
import { testRepo } from './helpers.js';

const MiB = 1024 * 1024;
const SMALL = 64 * MiB;
/** Growth allowed from 1x to 4x the input: the slots' pages fill as larger chunks land in them. */
const MARGIN = 40 * MiB;
/** docs/repository-format.md §15: about 200 MiB with the defaults; the rest is headroom for a busy machine. */
const CAP = 260 * MiB;

test('peak RSS of a stdin backup: 4x the input adds at most a small margin, and stays under a cap', async (t) => {
  const r = await testRepo(t);
  const big = join(r.dir, 'big.bin');
  const small = join(r.dir, 'small.bin');
  const made = await r.sh(`head -c ${4 * SMALL} /dev/urandom > '${big}' && head -c ${SMALL} '${big}' > '${small}'`);
  assert.equal(made.status, 0, made.stderr);
  const peak = async (file: string, name: string): Promise<number> => {
    const res = await r.sh(`/usr/bin/time -f 'peak %M' node '${SLUICE_JS}' snapshot -q --stdin ${name} < '${file}'`);
    assert.equal(res.status, 0, res.stderr);
    const m = /peak (\d+)\s*$/.exec(res.stderr);
    assert.ok(m !== null, `no peak RSS in: ${res.stderr}`);
    return Number(m[1]) * 1024;
  };
  const one = await peak(small, 'small');
  const four = await peak(big, 'big');
  const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;
  t.diagnostic(`peak RSS: ${mib(one)} for ${mib(SMALL)}, ${mib(four)} for ${mib(4 * SMALL)}`);
  assert.ok(four - one <= MARGIN, `peak RSS grew from ${mib(one)} to ${mib(four)} for 4x the input`);
  assert.ok(four <= CAP, `peak RSS ${mib(four)} is over ${mib(CAP)}`);
  const listed = await r.run(['snapshots', '--json']);
  assert.equal(JSON.parse(listed.stdout.toString()).length, 2, 'both backups are committed');
});
