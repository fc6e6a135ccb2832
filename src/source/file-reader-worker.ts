/**
 * The worker side of FileReader: requests answered one at a time with synchronous calls (file-reads.ts),
 * into shared blocks the main thread owns. A file stays open between requests until it is read to the end
 * or the main thread says it is no longer wanted.
 */
import { parentPort } from 'node:worker_threads';
import { type ReaderRequest, SyncReads } from './file-reads.js';

const reads = new SyncReads();
parentPort?.on('message', (message: ReaderRequest) => {
  const reply = reads.handle(message);
  if (reply !== undefined) parentPort?.postMessage(reply);
});
