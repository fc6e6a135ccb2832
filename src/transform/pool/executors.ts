/**
 * What a codec worker does with each job: the dispatch to each codec's executor. Executors are pure
 * functions of the job (plus per-thread codec contexts), so tests can run them in-process too. They fail
 * by throwing a JobError (`job-failure.ts`) with the index of the block or chunk at fault.
 */
import { ageStream } from '../age/executor.js';
import { lz4Blocks, lz4Compress } from '../lz4/executor.js';
import { quicklzBlocks } from '../qpress/executor.js';
import { xbcryptOpen } from '../xbcrypt/executor.js';
import { zstdCompress, zstdFrame, zstdStream, zstdStreamClose, zstdStreamCompress } from '../zstd/executor.js';
import type { CodecJob, CodecResult } from './jobs.js';

export function runJob(job: CodecJob): CodecResult {
  switch (job.kind) {
    case 'zstd-compress':
      return zstdCompress(job);
    case 'lz4-compress':
      return lz4Compress(job);
    case 'zstd-frame':
      return zstdFrame(job);
    case 'zstd-stream':
      return zstdStream(job);
    case 'zstd-stream-compress':
      return zstdStreamCompress(job);
    case 'pinned-close':
      return zstdStreamClose(job.pin);
    case 'lz4-blocks':
      return lz4Blocks(job);
    case 'quicklz-blocks':
      return quicklzBlocks(job);
    case 'age-seal':
    case 'age-open':
      return ageStream(job);
    case 'xbcrypt-open':
      return xbcryptOpen(job);
  }
}

/** Buffers in a result that can move back to the caller without copying. */
export function transferList(result: CodecResult): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const b of [result.output, result.recycled]) {
    if (b !== undefined && b.buffer instanceof ArrayBuffer && b.buffer.byteLength > 0 && !list.includes(b.buffer)) {
      list.push(b.buffer);
    }
  }
  return list;
}
