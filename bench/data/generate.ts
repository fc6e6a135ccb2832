/**
 * The benchmark data set shared by the stream benchmarks: a shallow tree of about 5,000 files of mixed
 * sizes (about 1 GiB, half incompressible, half text-like) and one 1 GiB file. Deterministic, created once
 * under the given directory and reused (a marker file records that it is complete).
 *
 *   node dist/bench/data/generate.js [DIR] [--scale 0.1]
 */
import { existsSync } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BenchData {
  root: string;
  tree: string;
  big: string;
  treeBytes: number;
  bigBytes: number;
  files: number;
}

const WORDS = 'select insert update delete from where join order group by limit values null primary key index table row column'.split(' ');

/** xorshift32: the same data in every run. */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function fill(buf: Buffer, rand: () => number, compressible: boolean): void {
  if (!compressible) {
    for (let i = 0; i + 4 <= buf.length; i += 4) buf.writeUInt32LE(rand(), i);
    for (let i = buf.length - (buf.length % 4); i < buf.length; i++) buf[i] = rand() & 0xff;
    return;
  }
  let at = 0;
  while (at < buf.length) {
    const word = `${WORDS[rand() % WORDS.length]}${rand() % 7 === 0 ? `(${rand() % 100000})` : ''}${rand() % 11 === 0 ? '\n' : ' '}`;
    at += buf.write(word, at);
  }
}

export async function benchData(root: string, scale = 1): Promise<BenchData> {
  const tree = join(root, 'tree');
  const big = join(root, 'big');
  const marker = join(root, `complete-v2-${scale}`);
  const files = Math.round(5000 * scale);
  const bigBytes = Math.round(1024 ** 3 * scale);
  const rand = xorshift(42);
  const sizes: number[] = [];
  for (let i = 0; i < files; i++) {
    // Log-uniform from 0 to 1 MiB, plus a few larger table files: about 1 GiB in all.
    const r = rand() % 1000;
    sizes.push(r < 12 ? 4 * 1024 * 1024 + (rand() % (16 * 1024 * 1024)) : r < 27 ? 0 : Math.floor(Math.exp(((rand() % 10000) / 10000) * Math.log(1024 * 1024))));
  }
  const treeBytes = sizes.reduce((a, b) => a + b, 0);
  if (existsSync(marker)) return { root, tree, big, treeBytes, bigBytes, files };

  await rm(root, { recursive: true, force: true });
  await mkdir(tree, { recursive: true });
  await mkdir(big, { recursive: true });
  const buf = Buffer.allocUnsafe(25 * 1024 * 1024);
  for (let i = 0; i < files; i++) {
    const dir = join(tree, `db${String(i % 50).padStart(2, '0')}`);
    if (i < 50) await mkdir(dir, { recursive: true });
    const size = sizes[i] as number;
    const view = buf.subarray(0, size);
    fill(view, rand, i % 2 === 0);
    await writeFile(join(dir, `t${i}.ibd`), view);
  }
  const fh = await open(join(big, 'ibdata1'), 'w');
  const block = Buffer.allocUnsafe(8 * 1024 * 1024);
  for (let at = 0, n = 0; at < bigBytes; at += block.length, n++) {
    fill(block, rand, n % 2 === 0);
    await fh.write(block, 0, Math.min(block.length, bigBytes - at), at);
  }
  await fh.close();
  await writeFile(marker, new Date().toISOString());
  return { root, tree, big, treeBytes, bigBytes, files };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.argv[2] ?? '/tmp/sluice-bench';
  const scaleAt = process.argv.indexOf('--scale');
  const scale = scaleAt > 0 ? Number(process.argv[scaleAt + 1]) : 1;
  const data = await benchData(root, scale);
  console.log(JSON.stringify(data));
}
