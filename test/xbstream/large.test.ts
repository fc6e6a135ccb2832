/**
 * A 4 GiB sparse-ish file streamed by `sluice backup` into `sluice verify`: the per-file SHA-256 must
 * match the file, and neither process may grow with the input (peak RSS well under 200 MiB).
 */
import assert from 'node:assert/strict';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes } from '../helpers/tree.js';

const GiB = 1024 ** 3;
const RSS_LIMIT_KB = 200 * 1024;

test('a 4 GiB file streams and verifies in flat memory', { timeout: 300_000 }, async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await sh(`mkdir -p ${src}`);
  const file = join(src, 'ibdata1');
  const fh = await open(file, 'w');
  await fh.truncate(4 * GiB);
  for (const at of [0, 1 * GiB + 12345, 3 * GiB, 4 * GiB - 1024 * 1024]) await fh.write(pseudoRandomBytes(1024 * 1024, at % 997), 0, 1024 * 1024, at);
  await fh.close();

  const [pipeline, expected] = await Promise.all([
    sh(
      `/usr/bin/time -f '%M' -o ${dir}/rss.backup $SLUICE backup --stream ${src} ` +
        `| /usr/bin/time -f '%M' -o ${dir}/rss.verify $SLUICE verify --json > ${dir}/report.json`,
      { timeoutMs: 280_000 },
    ),
    sh(`sha256sum ${file}`, { timeoutMs: 280_000 }),
  ]);
  ok(pipeline, 'backup | verify');
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
  assert.equal(report.ok, true);
  assert.equal(report.files[0].size, 4 * GiB);
  assert.equal(report.files[0].sha256, ok(expected).stdout.toString().split(' ')[0]);
  assert.ok(report.stream.bytes > 4 * GiB);
  for (const which of ['backup', 'verify']) {
    const rssKb = Number((await readFile(join(dir, `rss.${which}`), 'utf8')).trim().split('\n').pop());
    assert.ok(rssKb > 0 && rssKb < RSS_LIMIT_KB, `${which} peak RSS ${rssKb} KB`);
  }
});
