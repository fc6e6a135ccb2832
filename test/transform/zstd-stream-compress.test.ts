/**
 * The pinned zstd compressor of `dump -c zstd` (`zstd-stream-compress` jobs): one frame per stream, with a
 * checksum, pieces fed in order; compression contexts are reused by later streams of the thread, after a
 * finished frame and after a stream closed mid-frame, and every frame still decodes with the stock `zstd`
 * to exactly its stream's bytes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CodecResult } from '../../src/transform/pool/jobs.js';
import { zstdStreamClose, zstdStreamCompress } from '../../src/transform/zstd/executor.js';
import { ok, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const text = (n: number, seed: number): Buffer => {
  const line = Buffer.from(`(${seed},'${'abcdefghij'.repeat(9)}',${seed * 7}),\n`);
  return Buffer.alloc(n, line);
};

function piece(pin: number, input: Uint8Array | undefined, end: boolean, level = 1): CodecResult {
  return zstdStreamCompress({ kind: 'zstd-stream-compress', pin, level, end, ...(input === undefined ? {} : { input }) });
}

test('zstd-stream-compress: one checksummed frame per stream; reused contexts give exact frames', async (t) => {
  const dir = await tempDir(t);
  const pieces = [text(1 << 20, 1), randomBytes(700_000), text(3, 2), text(2 << 20, 3)];
  const frames = new Map<string, { want: Buffer; got: Buffer[] }>();
  const feed = (name: string, pin: number, parts: Uint8Array[], level = 1): void => {
    const entry = frames.get(name) ?? { want: Buffer.alloc(0), got: [] };
    for (const p of parts) {
      const r = piece(pin, p, false, level);
      assert.equal(r.recycled, p, 'the input comes back as recycled');
      entry.got.push(Buffer.from(r.output));
      entry.want = Buffer.concat([entry.want, p]);
    }
    frames.set(name, entry);
  };
  const end = (name: string, pin: number): void => {
    const r = piece(pin, undefined, true);
    assert.equal(r.recycled, undefined);
    const entry = frames.get(name) ?? { want: Buffer.alloc(0), got: [] };
    entry.got.push(Buffer.from(r.output));
    frames.set(name, entry);
  };
  // two streams interleaved on one thread
  feed('a', 1, pieces.slice(0, 2));
  feed('b', 2, pieces.slice(1, 3), 3);
  feed('a', 1, pieces.slice(2));
  end('a', 1);
  // stream 3 takes a's context (level 1, frame finished); b is dropped mid-frame and 4 takes its context
  feed('c', 3, [pieces[3] as Buffer]);
  zstdStreamClose(2);
  feed('d', 4, [pieces[0] as Buffer, pieces[1] as Buffer], 3);
  end('c', 3);
  end('d', 4);
  // an empty stream is one empty frame
  end('e', 5);
  for (const name of ['a', 'c', 'd', 'e']) {
    const { want, got } = frames.get(name) ?? { want: Buffer.alloc(0), got: [] };
    const path = join(dir, `${name}.zst`);
    await writeFile(path, Buffer.concat(got));
    ok(await run('zstd', ['-q', '-t', path]), `zstd -t ${name}`);
    const listed = ok(await run('zstd', ['-lv', path]), `zstd -lv ${name}`).stdout.toString();
    assert.match(listed, /Check: XXH64/, `${name} has a frame checksum`);
    assert.match(listed, /# Zstandard Frames: 1\b/, `${name} is one frame`);
    const decoded = ok(await run('zstd', ['-q', '-d', '-c', path]), `zstd -d ${name}`).stdout;
    assert.ok(decoded.equals(want), `${name}: zstd -d gives the stream's ${want.length} bytes (got ${decoded.length})`);
  }
});
