/** A worker for the WorkerChannel tests: answers `{ id, echo }`, or stalls, exits or throws when told to. */
import { parentPort } from 'node:worker_threads';

type Order = { id: number; echo: string } | { id: number; stall: true } | { exit: number } | { crash: string };

parentPort?.on('message', (order: Order) => {
  if ('echo' in order) parentPort?.postMessage({ id: order.id, echo: order.echo });
  else if ('exit' in order) process.exit(order.exit);
  else if ('crash' in order) throw new Error(order.crash);
  // a stalled request is never answered
});
