/** The qpress job of a codec worker: check and decompress a batch of QuickLZ blocks. */
import { adler32 } from '../checksum/adler32.js';
import { fail } from '../pool/job-failure.js';
import type { CodecResult, QuicklzBlocksJob } from '../pool/jobs.js';
import { concatOwned } from '../pool/owned-bytes.js';
import { decompressQuicklzBlock, QuicklzError } from './quicklz.js';

export function quicklzBlocks(job: QuicklzBlocksJob): CodecResult {
  const outputs: Uint8Array[] = [];
  let total = 0;
  let at = 0;
  for (let i = 0; i < job.sizes.length; i++) {
    const size = job.sizes[i]!;
    const block = job.input.subarray(at, at + size);
    at += size;
    const sum = adler32(block);
    if (sum !== job.adler32[i]) {
      fail(
        'E_QPRESS_CHECKSUM',
        `QuickLZ block Adler-32 is 0x${sum.toString(16)}, the archive says 0x${(job.adler32[i] ?? 0).toString(16)}`,
        i,
        true,
      );
    }
    try {
      const out = decompressQuicklzBlock(block, job.maxBlockBytes);
      outputs.push(out);
      total += out.length;
    } catch (err) {
      if (err instanceof QuicklzError) fail('E_QPRESS_CORRUPT', `QuickLZ block is corrupt: ${err.message}`, i, true);
      throw err;
    }
  }
  return { output: concatOwned(outputs, total) };
}
