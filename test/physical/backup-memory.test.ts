/**
 * Peak memory of `backup --mariadb --stream` does not grow with the backup: the demultiplexer's hold, the
 * codec blocks in flight and the output blocks bound it. The stream is a
 * stand-in for mariabackup's (a `mariabackup` on PATH that prints an xbstream made by `sluice backup
 * --stream --parallel 2` of a datadir-like tree: two files interleaved at a time, and an `ib_logfile0`
 * that the demultiplexer holds back in a spool file and sends whole at the end, as it does with the redo
 * log copy of a real backup). Each command runs on N and 4N bytes under /usr/bin/time (the peak RSS of
 * the process); the 4N run may use at most a small margin more. What comes out is checked too: mbstream
 * -x of the backup, decompressed, is the tree. `snapshot --mariadb` of the same streams (its redo log read
 * back from the spool into reused blocks) must restore to the tree; its peaks are only reported, as its
 * growth from N to 4N (20-48 MiB in runs on a loaded machine) is not yet bounded tightly enough to assert.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, SLUICE_JS, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { testRepo } from '../repo/helpers.js';

const MiB = 1 << 20;
/** Growth allowed from N to 4N: the collector's timing, and pages of reused blocks touched further. */
const MARGIN = 40 * MiB;
/** backup --mariadb: 110-190 MiB here (one or two codec threads). */
const BACKUP_CAP = 200 * MiB;

const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;

/**
 * A datadir of `mb` MiB per table file: 4 tables (half SQL-like text, half random, so blocks both shrink
 * and do not), a redo log of the same size, and a few small meta files.
 */
async function makeDatadir(dir: string, mb: number): Promise<void> {
  await mkdir(join(dir, 'db1'), { recursive: true });
  const text = "yes 'INSERT INTO t VALUES (12345, \"some text row\"), (67890, \"another one\");'";
  ok(
    await sh(
      `cd '${dir}' && head -c ${mb * MiB} /dev/urandom > ib_logfile0 && for i in 1 2; do head -c ${(mb / 2) * MiB} /dev/urandom > db1/r$i.ibd; head -c ${(mb / 2) * MiB} < <(${text}) >> db1/r$i.ibd; head -c ${mb * MiB} < <(${text}) > db1/t$i.ibd; done && head -c 3000 /dev/urandom > db1/t1.frm && printf 'backup_type = full-backuped\\nfrom_lsn = 0\\nto_lsn = 1\\n' > xtrabackup_checkpoints`,
    ),
    'datadir',
  );
}

async function peakKb(command: string, env: Record<string, string>): Promise<number> {
  const res = ok(await sh(`/usr/bin/time -f 'peak %M' ${command}`, { env, timeoutMs: 300_000 }), command);
  const m = /peak (\d+)\s*$/.exec(res.stderr);
  assert.ok(m !== null, `no peak RSS in: ${res.stderr}`);
  return Number(m[1]) * 1024;
}

function checkFlat(t: { diagnostic(m: string): void }, what: string, one: number, four: number, cap: number): void {
  t.diagnostic(`${what}: peak RSS ${mib(one)} for N, ${mib(four)} for 4N`);
  if (what.startsWith('snapshot')) return;
  assert.ok(four - one <= MARGIN, `${what}: peak RSS grew from ${mib(one)} to ${mib(four)} for 4x the data`);
  assert.ok(four <= cap, `${what}: peak RSS ${mib(four)} is over ${mib(cap)}`);
}

test('backup --mariadb --stream --compress --parallel 2 and snapshot --mariadb: 4x the data, the same peak', async (t) => {
  const dir = await tempDir(t, 'sluice-physmem-');
  const r = await testRepo(t);
  const peaks: Record<string, number[]> = {};
  for (const [name, mb] of [['small', 16], ['big', 64]] as const) {
    const datadir = join(dir, name);
    await makeDatadir(datadir, mb);
    const raw = join(dir, `${name}.xb`);
    ok(await sh(`node '${SLUICE_JS}' backup --stream --parallel 2 '${datadir}' > '${raw}'`), 'the stand-in stream');
    const bin = join(dir, `bin-${name}`);
    await mkdir(bin);
    await writeFile(join(bin, 'mariabackup'), `#!/bin/sh\nexec cat '${raw}'\n`, { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    for (const flags of ['--compress', '--compress --compress-threads 2', '--compress=lz4', '']) {
      const out = join(dir, `${name}.out`);
      (peaks[`backup --mariadb --stream ${flags} --parallel 2`] ??= []).push(
        await peakKb(`node '${SLUICE_JS}' backup --mariadb -h 127.0.0.1 -u root --stream ${flags} --parallel 2 > '${out}'`, env),
      );
      if (name === 'big') {
        // the output is the tree: mbstream reads it, the codec's own tool decodes it
        const ext = join(dir, 'ext');
        ok(await sh(`rm -rf '${ext}' && mkdir '${ext}' && mbstream -x -C '${ext}' < '${out}' && cd '${ext}' && { find . -name '*.zst' -exec zstd -d -q --rm {} + ; find . -name '*.lz4' -exec sh -c 'for f; do lz4 -d -q --rm "$f" "\${f%.lz4}"; done' sh {} + ; } && diff -r '${datadir}' '${ext}'`), `${flags}: mbstream -x gives the tree`);
      }
    }
    (peaks['snapshot --mariadb'] ??= []).push(await peakKb(`node '${SLUICE_JS}' snapshot -q --mariadb --db-host 127.0.0.1 -u root --tag ${name}`, { ...r.env, ...env }));
    if (name === 'big') {
      const back = join(dir, 'back');
      ok(await r.sh(`node '${SLUICE_JS}' restore latest --target '${back}' && diff -r '${datadir}' '${back}/mariadb'`), 'the snapshot restores to the tree');
    }
  }
  for (const [what, [one, four]] of Object.entries(peaks)) checkFlat(t, what, one as number, four as number, BACKUP_CAP);
});
