/**
 * Streams, not buffers, for the whole compressed backup as a user runs it: four times the input, no more
 * memory. The input is incompressible, the case where lz4-napi once kept native memory per block
 * (peak RSS grew with the input, 1 GiB on a 1.2 GB datadir).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1 << 20;

async function peakRssKb(dir: string, flags: string): Promise<number> {
  const res = ok(await sh(`/usr/bin/time -f %M -o ${dir}/rss $SLUICE backup --stream ${flags} ${dir}/in | wc -c > ${dir}/size; cat ${dir}/rss`, { timeoutMs: 300_000 }));
  return Number(res.stdout.toString().trim().split('\n').pop());
}

test('compressed backups of 64 MiB and 256 MiB of random data peak at the same memory', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'in'));
  const sizes = [64, 256];
  const peaks: Record<string, number[]> = {};
  for (const mb of sizes) {
    ok(await sh(`rm -f ${dir}/in/*; head -c ${mb * MiB} /dev/urandom > ${dir}/in/random.bin`));
    for (const flags of ['--compress=lz4', '--compress=lz4 --compress-threads=2', '--compress --compress-threads=1', '--compress --compress-threads=2']) {
      (peaks[flags] ??= []).push(await peakRssKb(dir, flags));
    }
  }
  for (const [flags, [small, large]] of Object.entries(peaks)) {
    const detail = `${flags}: ${((small as number) / 1024).toFixed(0)} MiB for 64 MiB, ${((large as number) / 1024).toFixed(0)} MiB for 256 MiB`;
    assert.ok((large as number) - (small as number) < 48 * 1024, `memory grew with the input: ${detail}`);
    assert.ok((large as number) < 250 * 1024, `too much memory: ${detail}`);
  }
});

/**
 * A datadir-like tree: a few large files one after another, half text rows and half incompressible, where
 * each file drained ahead of the writer holds a codec window. 1.2 GB of such files peaked at 250-270 MiB
 * with two drains and 32 MiB ahead; the bound below is what one drain and 16 MiB keep (about 205 MiB).
 */
test('compressed backups of a tree of large files: 4x the data, the same peak', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'in'));
  const peaks: Record<string, number[]> = {};
  for (const mb of [16, 64]) {
    ok(await sh(`rm -f ${dir}/in/*; for i in 1 2 3 4 5 6; do head -c ${mb * MiB} /dev/urandom > ${dir}/in/random$i.ibd; head -c ${mb * MiB} < <(yes 'INSERT INTO t VALUES (12345, "some text row"), (67890, "another one");') > ${dir}/in/text$i.ibd; done`));
    for (const flags of ['--compress=lz4 --compress-threads=1', '--compress=lz4 --compress-threads=2', '--compress --compress-threads=1', '--compress --compress-threads=2']) {
      (peaks[flags] ??= []).push(await peakRssKb(dir, flags));
    }
  }
  for (const [flags, [small, large]] of Object.entries(peaks)) {
    const detail = `${flags}: ${((small as number) / 1024).toFixed(0)} MiB for 12 x 16 MiB, ${((large as number) / 1024).toFixed(0)} MiB for 12 x 64 MiB`;
    assert.ok((large as number) - (small as number) < 40 * 1024, `memory grew with the input: ${detail}`);
    assert.ok((large as number) < 235 * 1024, `too much memory: ${detail}`);
  }
  // Files compressed side by side share the codec window: 4 lanes once held 4 windows (lz4, 2 threads:
  // 195 MiB with 1 lane, 333 MiB with 4).
  const oneLane = peaks['--compress=lz4 --compress-threads=2']?.[1] as number;
  const fourLanes = await peakRssKb(dir, '--compress=lz4 --compress-threads=2 --parallel=4');
  t.diagnostic(`lz4, 2 threads, 12 x 64 MiB: ${(oneLane / 1024).toFixed(0)} MiB with --parallel=1, ${(fourLanes / 1024).toFixed(0)} MiB with --parallel=4`);
  assert.ok(fourLanes - oneLane < 64 * 1024, `memory grew with --parallel: ${(oneLane / 1024).toFixed(0)} -> ${(fourLanes / 1024).toFixed(0)} MiB`);
});

/**
 * Decoding stock `lz4 -1` output of SQL text: 4 MiB blocks that shrink about 250 to 1, so a 1 MiB batch
 * of input once held 64 blocks, one job of 256 MiB out (peak RSS 400 MiB for 256 MiB, 555+ for 1 GiB).
 */
test('decompressing lz4 -1 of compressible text: 4x the data, the same peak', async (t) => {
  const dir = await tempDir(t);
  const peaks: number[] = [];
  for (const mb of [64, 256]) {
    ok(await sh(`cd ${dir} && rm -f x x.lz4 && { head -c ${mb * MiB} < <(yes 'INSERT INTO t VALUES (12345, "some text row"), (67890, "another one");'); head -c ${(mb / 4) * MiB} /dev/urandom; } > x && sha256sum x > x.sha && lz4 -q -1 x x.lz4 && rm x`));
    const res = ok(await sh(`cd ${dir} && /usr/bin/time -f %M -o rss $SLUICE decompress --remove-original x.lz4 && sha256sum -c x.sha > /dev/null && cat rss`, { timeoutMs: 300_000 }));
    peaks.push(Number(res.stdout.toString().trim().split('\n').pop()));
  }
  const [small, large] = peaks as [number, number];
  const detail = `${(small / 1024).toFixed(0)} MiB for 80 MiB, ${(large / 1024).toFixed(0)} MiB for 320 MiB`;
  assert.ok(large - small < 40 * 1024, `memory grew with the input: ${detail}`);
  assert.ok(large < 250 * 1024, `too much memory: ${detail}`);
});
