/** A dump file's bytes as the loader reads them: decompressed (.gz, .zst) as they stream, or whole for schema files. */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecompressStream } from 'zstd-napi';
import type { Compression } from '../../container/mydumper-stream/layout.js';
import type { LoadFile } from './load-options.js';
import type { ChunkSource } from './replayable-statements.js';

/** A data file's bytes from its start, decompressed, for ReplayableStatements. */
export function openDataFile(file: LoadFile, compression: Compression | undefined): ChunkSource {
  if (compression === undefined) return { chunks: readChunks(file.path), close: () => undefined };
  const raw = createReadStream(file.path, { highWaterMark: 1 << 20 });
  const out = decompressed(raw, compression);
  return {
    chunks: out as AsyncIterable<Buffer>,
    close: () => {
      raw.destroy();
      out.destroy();
    },
  };
}

/** A file's bytes in 1 MiB pieces read into one reused buffer (each valid until the next is asked for). */
async function* readChunks(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

function decompressed(raw: Readable, compression: Compression): Readable {
  if (compression === 'gzip') return raw.pipe(createGunzip({ chunkSize: 1 << 20 }));
  return raw.pipe(new DecompressStream());
}

/** A schema file's whole text, as latin1 (one character per byte: the bytes go back out unchanged). */
export async function readWholeFile(file: LoadFile, compression: Compression | undefined): Promise<string> {
  if (compression === undefined) return (await readFile(file.path)).toString('latin1');
  const parts: Buffer[] = [];
  for await (const b of decompressed(createReadStream(file.path), compression)) parts.push(b as Buffer);
  return Buffer.concat(parts).toString('latin1');
}
