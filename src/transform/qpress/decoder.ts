/**
 * Decoding a `.qp` file: a qpress archive holding one file, as MariaDB's `mariabackup --compress`
 * (and XtraBackup before 8.0.34) writes them:
 *
 *   "qpress10"  u64 chunk size
 *   'F'  u32 name length  name  0x00                   (the file's base name)
 *   per chunk: "NEWBNEWB"  u64 offset  u32 Adler-32  QuickLZ block (header + body)
 *   "ENDSENDS"  u64                                  (then the input ends)
 *
 * Blocks are checked (Adler-32, declared sizes within the chunk size) and decoded on the worker
 * pool in batches, in order. The per-block offset is informational (Percona's writer adds it twice).
 * Archives with directories or several files never come out of a backup tool and are refused.
 */
import { ByteReader } from '../../bytes/byte-reader.js';
import { FormatError } from '../../errors.js';
import { concatBytes, transferOf } from '../../bytes/copies.js';
import { codecError, locate } from '../codec-errors.js';
import { RecordBatch } from '../record-batch.js';
import { type BlockPool, orderedMap, streamWindow } from '../pool/block-pool.js';
import type { QuicklzBlocksJob } from '../pool/jobs.js';
import { decodeQuicklzHeader, quicklzHeaderProblem } from './quicklz.js';

const ARCHIVE_MAGIC = 'qpress10';
const BLOCK_MAGIC = 'NEWBNEWB';
const END_MAGIC = 'ENDSENDS';
/** Largest chunk size accepted from an archive header (qpress writes 64 KiB by default). */
export const QPRESS_MAX_CHUNK_BYTES = 64 << 20;
const MAX_NAME_BYTES = 4096;
const BATCH_BYTES = 1 << 20;

const latin1 = new TextDecoder('latin1');

type Batch = RecordBatch<QuicklzBlocksJob>;

function u64(b: Uint8Array): number {
  const big = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  return big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
}

function u32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
}

async function* scanArchive(reader: ByteReader, path: string): AsyncGenerator<Batch> {
  const magic = (await reader.readExact(8, 'the qpress archive header', true)) as Uint8Array | undefined;
  if (magic === undefined) throw new FormatError('E_QPRESS_EMPTY', 'empty file: not a qpress archive', { path, offset: 0 });
  if (latin1.decode(magic) !== ARCHIVE_MAGIC) {
    throw new FormatError('E_QPRESS_MAGIC', `not a qpress archive: it starts with ${JSON.stringify(latin1.decode(magic))}`, {
      path,
      offset: 0,
    });
  }
  const chunkBytes = u64((await reader.readExact(8, 'the qpress chunk size')) as Uint8Array);
  if (chunkBytes < 1 || chunkBytes > QPRESS_MAX_CHUNK_BYTES) {
    throw new FormatError('E_QPRESS_HEADER', `qpress chunk size ${chunkBytes} is outside 1..${QPRESS_MAX_CHUNK_BYTES}`, {
      path,
      offset: 8,
    });
  }
  const entryOffset = reader.offset;
  const kind = latin1.decode((await reader.readExact(1, 'the first qpress entry')) as Uint8Array);
  if (kind !== 'F') {
    throw new FormatError(
      'E_QPRESS_ENTRY',
      kind === 'D' ? 'qpress archives with directories are not supported (backup tools write one file per archive)' : `unknown qpress entry type ${JSON.stringify(kind)}`,
      { path, offset: entryOffset },
    );
  }
  const nameBytes = u32((await reader.readExact(4, 'the qpress file name length')) as Uint8Array);
  if (nameBytes > MAX_NAME_BYTES) {
    throw new FormatError('E_QPRESS_ENTRY', `qpress file name of ${nameBytes} bytes is too long`, { path, offset: entryOffset });
  }
  await reader.readExact(nameBytes + 1, 'the qpress file name'); // the name, then a NUL

  let batch: Batch | undefined;

  let block = 0;
  const flush = (): Batch => {
    const sealed = (batch as Batch).seal();
    batch = undefined;
    return sealed;
  };
  for (;;) {
    const recordOffset = reader.offset;
    const tag = latin1.decode((await reader.readExact(8, 'a qpress block marker')) as Uint8Array);
    if (tag === END_MAGIC) {
      await reader.readExact(8, 'the end of the qpress archive');
      break;
    }
    if (tag !== BLOCK_MAGIC) {
      throw new FormatError('E_QPRESS_BLOCK', `expected a qpress block marker, found ${JSON.stringify(tag)}`, {
        path,
        offset: recordOffset,
      });
    }
    await reader.readExact(8, 'a qpress block offset');
    const adler = u32((await reader.readExact(4, 'a qpress block checksum')) as Uint8Array);
    const blockOffset = reader.offset;
    const first = (await reader.readExact(3, 'a QuickLZ block header')) as Uint8Array;
    const headBytes = (first[0]! & 2) !== 0 ? 9 : 3;
    const head = headBytes === 9 ? concatBytes([first, (await reader.readExact(6, 'a QuickLZ block header')) as Uint8Array]) : first.slice();
    const h = decodeQuicklzHeader(head);
    const problem = h === undefined ? 'short header' : quicklzHeaderProblem(h, chunkBytes);
    if (h === undefined || problem !== undefined) {
      throw new FormatError('E_QPRESS_BLOCK', `QuickLZ block ${block + 1}: ${problem}`, { path, offset: blockOffset });
    }
    batch ??= new RecordBatch<QuicklzBlocksJob>({ kind: 'quicklz-blocks', input: new Uint8Array(0), sizes: [], adler32: [], maxBlockBytes: chunkBytes }, block);
    batch.add(head);
    for await (const piece of reader.stream(h.blockBytes - head.length, `QuickLZ block ${block + 1}`)) {
      batch.add(piece);
    }
    batch.job.sizes.push(h.blockBytes);
    batch.job.adler32.push(adler);
    batch.offsets.push(blockOffset);
    block += 1;
    if (batch.bytes >= BATCH_BYTES) yield flush();
  }
  if (batch !== undefined) yield flush();
  if (!(await reader.atEnd())) {
    throw new FormatError('E_QPRESS_TRAILING', 'data after the end of the qpress archive', { path, offset: reader.offset });
  }
}

export interface QpressDecodeOptions {
  pool: BlockPool;
  path: string;
}

export async function* decodeQpress(content: AsyncIterable<Uint8Array>, options: QpressDecodeOptions): AsyncGenerator<Uint8Array> {
  const { pool, path } = options;
  const reader = new ByteReader(content, path);
  try {
    const results = orderedMap(scanArchive(reader, path), streamWindow(pool), async (batch) => {
      try {
        return (await pool.run(batch.job, transferOf(batch.job.input))).output;
      } catch (err) {
        const item = err instanceof Error && 'failure' in err ? (err as { failure: { item?: number } }).failure.item : undefined;
        const at = item === undefined ? batch.offsets[0] : batch.offsets[item];
        return Promise.reject(codecError(err, `QuickLZ block ${batch.first + (item ?? 0) + 1}`, { path, offset: at ?? 0 }));
      }
    });
    for await (const out of results) if (out.length > 0) yield out;
  } catch (err) {
    throw locate(err, path);
  } finally {
    await reader.close();
  }
}
