/**
 * Reads a file descriptor (stdin) and cuts it into chunks, off the main thread: reading a pipe and
 * scanning every byte for cut points is most of a second backup's work, and the main thread has the
 * rest to do.
 *
 * Bytes are read straight into the chunk slots the main thread grants (no intermediate buffers: fresh
 * read buffers cost a page fault per 4 KiB here), scanned where they land, and the few bytes read past
 * a cut are moved to the start of the next slot. Each finished chunk is announced with its slot and
 * length. Waiting for a grant stops the reading, so backpressure reaches the writer of the pipe.
 *
 * Reads are synchronous (this thread has nothing else to do); on a non-blocking descriptor (node makes
 * stdin pipes non-blocking) an empty pipe is waited out in short sleeps.
 */
import { readSync } from 'node:fs';
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
  | { end: { bytes: number } }
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

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Largest single read: big enough for few syscalls, small enough that a cut moves little. */
const READ_BYTES = 256 * 1024;
const carryBuffer = new Uint8Array(READ_BYTES);

function readInto(view: Uint8Array, at: number, max: number): number {
  for (;;) {
    try {
      return readSync(setup.fd, view, at, max, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') throw err;
      Atomics.wait(sleeper, 0, 0, 0.2);
    }
  }
}

async function run(): Promise<void> {
  const chunker = new Chunker(setup.gear, setup.chunker);
  const slotView = (slot: number) => new Uint8Array(setup.slots, slot * setup.slotBytes, setup.slotBytes);
  let bytes = 0;
  let slot = await nextSlot();
  let view = slotView(slot);
  /** Bytes of the current chunk in the slot, and bytes read into the slot past them (not yet scanned). */
  let fill = 0;
  let pending = 0;
  let eof = false;
  for (;;) {
    if (pending === 0 && !eof) {
      const n = readInto(view, fill, Math.min(READ_BYTES, setup.slotBytes - fill));
      if (n === 0) eof = true;
      bytes += n;
      pending = n;
    }
    if (pending > 0) {
      const end = chunker.next(view.subarray(0, fill + pending), fill);
      pending -= end - fill;
      fill = end;
      if (!chunker.cut) continue;
    } else if (fill === 0) {
      break;
    }
    // The chunk [0, fill) is done. Bytes read past it are set aside before it is announced (the main
    // thread may release and re-grant this very slot at once), then start the next slot.
    const carry = pending;
    if (carry > 0) carryBuffer.set(view.subarray(fill, fill + carry), 0);
    port?.postMessage({ chunk: { slot, length: fill }, bytes: bytes - carry } satisfies ChunkReaderEvent);
    if (eof && carry === 0) {
      slot = -1;
      break;
    }
    slot = await nextSlot();
    view = slotView(slot);
    if (carry > 0) view.set(carryBuffer.subarray(0, carry), 0);
    fill = 0;
    pending = carry;
  }
  // Slots granted but not used are taken back by the main thread, which tracks its grants.
  port?.postMessage({ end: { bytes } } satisfies ChunkReaderEvent);
}

run().catch((err: unknown) => {
  port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies ChunkReaderEvent);
});
