/** Entry point of a codec worker thread: runs one job per message and answers with its id. */
import { parentPort } from 'node:worker_threads';
import { describeFailure, runJob, transferList } from './executors.js';
import type { CodecJob } from './jobs.js';

const port = parentPort;
if (port === null) throw new Error('codec-worker.js must run in a worker thread');

port.on('message', (msg: { id: number; job: CodecJob }) => {
  try {
    const result = runJob(msg.job);
    port.postMessage({ id: msg.id, result }, transferList(result));
  } catch (err) {
    port.postMessage({ id: msg.id, failure: describeFailure(err) });
  }
});
