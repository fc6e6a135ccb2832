/**
 * Memory of the in-memory blob index per million chunks: `node --expose-gc dist/bench/repo/index-memory.js [millions]`.
 * Adds random ids (as the keyed-hash ids are) and reports the typed arrays' size and the process's growth.
 */
import { randomFillSync } from 'node:crypto';
import { BlobIndex } from '../../src/repo/content/blob-index.js';

const millions = Number(process.argv[2] ?? '1');
const n = Math.round(millions * 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const before = process.memoryUsage();
const index = new BlobIndex();
const pack = index.addPack('0'.repeat(64), 32 * 1024 * 1024);
const id = new Uint8Array(32);
for (let i = 0; i < n; i++) {
  randomFillSync(id);
  index.add('data', id, pack, i % 1_000_000, 1_048_576, 2_000_000);
}
gc?.();
const after = process.memoryUsage();
const perMillion = (bytes: number) => ((bytes / n) * 1_000_000) / 1048576;
process.stdout.write(
  `${n} blobs: typed arrays ${(index.byteLength / 1048576).toFixed(1)} MiB (${(index.byteLength / n).toFixed(1)} bytes/blob, ` +
    `${perMillion(index.byteLength).toFixed(1)} MiB per million); process grew ${((after.rss - before.rss) / 1048576).toFixed(1)} MiB RSS, ` +
    `${((after.arrayBuffers - before.arrayBuffers) / 1048576).toFixed(1)} MiB array buffers\n`,
);
