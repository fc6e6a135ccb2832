/**
 * Reads a file descriptor (stdin) and cuts it into chunks, off the main thread: reading a pipe and
 * scanning every byte for cut points is most of a second backup's work, and the main thread has the
 * rest to do. Chunks are written into slots the main thread grants; each finished chunk is announced
 * with its slot and length. Waiting for a grant stops the reading, so backpressure reaches the writer
 * of the pipe.
 */
import { createReadStream, fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { Chunker, type ChunkerParams } from '../content/chunker.js';

export interface ChunkReaderSetup {
  fd: number;
  slots: SharedArrayBuffer;
  slotBytes: number;
  gear: Int32Array;
  chunker: ChunkerParams;
}

export type ChunkReaderEvent =
  | { chunk: { slot: number; length: number }; bytes: number }
  | { end: { bytes: number; unused: number[] } }
  | { error: string };

const setup = workerData as ChunkReaderSetup;
const port = parentPort;
if (port === null) throw new Error('chunk-reader-worker must run in a worker thread');

const granted: number[] = [];
let wake: (() => void) | undefined;
port.on('message', (message: { grant: number }) => {
  granted.push(message.grant);
  wake?.();
  wake = undefined;
});

async function nextSlot(): Promise<number> {
  while (granted.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  return granted.shift() as number;
}

async function run(): Promise<void> {
  const isFile = fstatSync(setup.fd).isFile();
  // A pipe or socket is read through a libuv stream (non-blocking safe); a regular file in large reads.
  const source: AsyncIterable<Uint8Array> = isFile
    ? createReadStream('', { fd: setup.fd, highWaterMark: 1 << 20, autoClose: false })
    : new Socket({ fd: setup.fd, readable: true, writable: false, allowHalfOpen: true });
  const chunker = new Chunker(setup.gear, setup.chunker);
  let bytes = 0;
  let slot = -1;
  let fill = 0;
  let view: Uint8Array = new Uint8Array(0);
  for await (const piece of source) {
    bytes += piece.length;
    let pos = 0;
    while (pos < piece.length) {
      if (slot < 0) {
        slot = await nextSlot();
        fill = 0;
        view = new Uint8Array(setup.slots, slot * setup.slotBytes, setup.slotBytes);
      }
      const end = chunker.next(piece, pos);
      view.set(piece.subarray(pos, end), fill);
      fill += end - pos;
      pos = end;
      if (chunker.cut) {
        port?.postMessage({ chunk: { slot, length: fill }, bytes } satisfies ChunkReaderEvent);
        slot = -1;
      }
    }
  }
  if (slot >= 0 && fill > 0) port?.postMessage({ chunk: { slot, length: fill }, bytes } satisfies ChunkReaderEvent);
  const unused = [...granted];
  if (slot >= 0 && fill === 0) unused.push(slot);
  port?.postMessage({ end: { bytes, unused } } satisfies ChunkReaderEvent);
}

run().catch((err: unknown) => {
  port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies ChunkReaderEvent);
});
