/** Entry point of a codec worker thread: runs the jobs of each message in order and answers them in one reply. */
import { parentPort } from 'node:worker_threads';
import { runJob, transferList } from './executors.js';
import { describeFailure } from './job-failure.js';
import type { WorkerReply } from './block-pool.js';
import type { CodecJob } from './jobs.js';

const port = parentPort;
if (port === null) throw new Error('codec-worker.js must run in a worker thread');

port.on('message', (jobs: { id: number; job: CodecJob }[]) => {
  const reply: WorkerReply = [];
  const transfer: ArrayBuffer[] = [];
  for (const { id, job } of jobs) {
    try {
      const result = runJob(job);
      reply.push({ id, result });
      for (const buffer of transferList(result)) if (!transfer.includes(buffer)) transfer.push(buffer);
    } catch (err) {
      reply.push({ id, failure: describeFailure(err) });
    }
  }
  port.postMessage(reply, transfer);
});
