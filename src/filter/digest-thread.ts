/** The worker side of ThreadedDigest: hashes the buffers it is sent and sends each one back for reuse. */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const hash = createHash((workerData as { algorithm: string }).algorithm);
parentPort?.on('message', (message: { buffer: ArrayBuffer; length: number } | { end: true }) => {
  if ('end' in message) {
    parentPort?.postMessage({ hex: hash.digest('hex') });
    return;
  }
  hash.update(new Uint8Array(message.buffer, 0, message.length));
  parentPort?.postMessage({ buffer: message.buffer }, [message.buffer]);
});
