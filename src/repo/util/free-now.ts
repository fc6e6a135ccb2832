/**
 * Frees the memory of large buffers at once instead of at the next garbage collection. A backup makes
 * one fresh buffer per sealed chunk (the sealing workers' output); left to the collector, tens of MiB
 * of them wait dead in memory (V8 collects after about 64 MiB of external allocations). Transferring a
 * buffer to a closed port detaches it, and the dropped message frees its memory.
 */
import { MessageChannel } from 'node:worker_threads';

const { port1: sink, port2 } = new MessageChannel();
port2.close();

/**
 * Frees the buffers behind `views`: call only when nothing else holds them (each view must span its
 * whole ArrayBuffer; others, and small ones, are left to the collector).
 */
export function freeNow(views: readonly Uint8Array[]): void {
  const buffers: ArrayBuffer[] = [];
  for (const v of views) {
    const b = v.buffer;
    if (b instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === b.byteLength && b.byteLength >= 64 * 1024 && !buffers.includes(b)) buffers.push(b);
  }
  if (buffers.length > 0) sink.postMessage(null, buffers);
}
