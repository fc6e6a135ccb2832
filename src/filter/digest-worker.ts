/** The worker side of ThreadedDigest: hashes the buffers it is sent and sends each one back for reuse. */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

export type DigestRequest = { buffer: ArrayBuffer; length: number } | { end: true; request: number };
export type DigestReply = { buffer: ArrayBuffer } | { hex: string; request: number };

const hash = createHash((workerData as { algorithm: string }).algorithm);
parentPort?.on('message', (message: DigestRequest) => {
  if ('end' in message) {
    parentPort?.postMessage({ hex: hash.digest('hex'), request: message.request } satisfies DigestReply);
    return;
  }
  hash.update(new Uint8Array(message.buffer, 0, message.length));
  parentPort?.postMessage({ buffer: message.buffer } satisfies DigestReply, [message.buffer]);
});
