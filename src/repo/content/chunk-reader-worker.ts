/**
 * Reads a file descriptor (stdin) and cuts it into chunks, off the main thread: reading a pipe and
 * scanning every byte for cut points is most of a second backup's work, and the main thread has the
 * rest to do.
 *
 * The thread is started early (while the password is checked) and waits for its setup: the chunk
 * slots' shared memory, the gear table and the chunker parameters. Bytes are then read straight into
 * the chunk slots the main thread grants (no intermediate buffers: fresh read buffers cost a page fault
 * per 4 KiB here) and scanned where they land (SlotCutter). Each finished chunk is announced with its
 * slot and length. Waiting for a grant stops the reading, so backpressure reaches the writer of the pipe.
 *
 * The thread is never blocked in read(2): it could not be stopped then, and the process could not exit,
 * while the producer stays silent.
 */
import { constants, fstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import type { ChunkReaderEvent, ChunkReaderMessage, ChunkReaderSetup } from './chunk-reader-protocol.js';
import { Chunker } from './chunker.js';
import { GearScanner } from './gear-scan.js';
import { type ChunkRef, SlotCutter, STEP_BYTES } from './slot-cutter.js';

// readSync reports an empty non-blocking pipe by throwing; without stack traces that costs little.
Error.stackTraceLimit = 0;

const fd = (workerData as { fd: number }).fd;
const port = parentPort;
if (port === null) throw new Error('chunk-reader-worker must run in a worker thread');

let setup: ChunkReaderSetup | undefined;
const granted: number[] = [];
let wake: (() => void) | undefined;
port.on('message', (message: ChunkReaderMessage) => {
  if ('setup' in message) setup = message.setup;
  else granted.push(message.grant);
  const waiting = wake;
  wake = undefined;
  waiting?.();
});

async function nextSlot(): Promise<number> {
  while (granted.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  return granted.shift() as number;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function readInto(view: Uint8Array, at: number, max: number): number {
  for (;;) {
    try {
      return readSync(fd, view, at, max, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') throw err;
      Atomics.wait(sleeper, 0, 0, 0.2);
    }
  }
}

/**
 * A pipe is reopened through /proc (a descriptor of our own, so closing it leaves stdin alone) and read
 * by libuv's poller: woken as soon as the writer writes, never blocked in read(2)
 * (so the thread can always be stopped). Polling the non-blocking stdin with sleeps instead was capped
 * well below the writer's speed (the pipe holds 64 KiB, and each sleep outlasts the writer filling it;
 * decision log in docs/architecture.md). Files, sockets and systems without /proc are read with readSync.
 */
function openPipe(): number | undefined {
  try {
    // Only anonymous pipes: reopening a named FIFO waits for a writer, or (non-blocking) never reports
    // the end once its writer is gone.
    const path = `/proc/self/fd/${fd}`;
    if (!fstatSync(fd).isFIFO() || !readlinkSync(path).startsWith('pipe:')) return undefined;
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

function announce(chunk: ChunkRef, bytes: number): void {
  port?.postMessage({ chunk, bytes } satisfies ChunkReaderEvent);
}

/** Reads with readSync (files: never wait; non-blocking descriptors: short sleeps). Returns the bytes read. */
async function readLoop(cutter: SlotCutter): Promise<number> {
  let bytes = 0;
  let eof = false;
  for (;;) {
    if (!cutter.hasSlot) {
      if (eof && !cutter.hasCarry) break;
      cutter.setSlot(await nextSlot());
    }
    const chunk = cutter.cut();
    if (chunk !== undefined) {
      announce(chunk, cutter.cutAt);
      continue;
    }
    if (eof) {
      const last = cutter.finish();
      if (last.chunk !== undefined) announce(last.chunk, bytes);
      // An unused slot is taken back by the main thread, which tracks its grants.
      break;
    }
    const t = cutter.target();
    const n = readInto(t.view, t.at, t.max);
    if (n === 0) eof = true;
    else {
      cutter.appended(n);
      bytes += n;
    }
  }
  return bytes;
}

/**
 * Reads a pipe through libuv straight into the slots, pausing while no slot is granted. Returns the
 * bytes read. libuv asks for the buffer of the next read right after each read (onread's `buffer`
 * function): when the next chunk's slot is known then, that is the slot itself; otherwise (no slot
 * granted yet) a small landing buffer, copied into a slot once one is granted.
 */
function pipeLoop(cutter: SlotCutter, pipeFd: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const landing = new Uint8Array(STEP_BYTES);
    /** The buffer libuv reads into next: the landing buffer, or the current slot's target. */
    let armed: Uint8Array = landing;
    let staged = 0;
    let stagedLength = 0;
    let bytes = 0;
    let eof = false;
    let finished = false;
    /** Cuts what was read and takes granted slots; true when everything read is in slots (read more). */
    const pump = (): boolean => {
      for (;;) {
        if (finished) return false;
        if (!cutter.hasSlot) {
          if (eof && stagedLength === 0 && !cutter.hasCarry) return finish();
          const slot = granted.shift();
          if (slot === undefined) return false;
          cutter.setSlot(slot);
        }
        const chunk = cutter.cut();
        if (chunk !== undefined) {
          announce(chunk, cutter.cutAt);
          continue;
        }
        if (stagedLength > 0) {
          const n = Math.min(cutter.target().max, stagedLength);
          cutter.append(landing.subarray(staged, staged + n));
          staged += n;
          stagedLength -= n;
          continue;
        }
        if (!eof) return true;
        const last = cutter.finish();
        if (last.chunk !== undefined) announce(last.chunk, bytes);
        return finish();
      }
    };
    const finish = (): false => {
      finished = true;
      wake = undefined;
      resolve(bytes);
      return false;
    };
    // While a slot target is armed, nothing else appends to the cutter: staged bytes exist only after a
    // read into the landing buffer, and the slot does not change until that read completes.
    const arm = (): Uint8Array => {
      if (!finished && cutter.hasSlot && stagedLength === 0) {
        const t = cutter.target();
        armed = t.view.subarray(t.at, t.at + t.max);
      } else {
        armed = landing;
      }
      return armed;
    };
    const socket = new Socket({
      fd: pipeFd,
      readable: true,
      writable: false,
      onread: {
        buffer: arm,
        callback: (n: number) => {
          bytes += n;
          if (armed === landing) {
            staged = 0;
            stagedLength = n;
          } else {
            cutter.appended(n);
          }
          // false pauses the socket until a grant lets pump() go on.
          return pump();
        },
      },
    });
    // Waits for grants: the message handler calls `wake` after queueing one.
    const onGrant = (): void => {
      if (finished) return;
      wake = onGrant;
      if (pump()) socket.resume();
    };
    socket.on('end', () => {
      eof = true;
      onGrant();
    });
    socket.on('error', (err) => {
      finished = true;
      reject(err);
    });
    socket.pause();
    onGrant();
  });
}

async function run(): Promise<void> {
  while (setup === undefined) await new Promise<void>((resolve) => (wake = resolve));
  const s = setup;
  const chunker = new Chunker(s.gear, s.chunker, GearScanner.over(s.memory));
  const cutter = new SlotCutter(chunker, (slot) => new Uint8Array(s.slots, s.slotBase + slot * s.slotBytes, s.chunker.max));
  const pipeFd = openPipe();
  const bytes = pipeFd === undefined ? await readLoop(cutter) : await pipeLoop(cutter, pipeFd);
  port?.postMessage({ end: { bytes } } satisfies ChunkReaderEvent);
}

run().catch((err: unknown) => {
  port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies ChunkReaderEvent);
});
