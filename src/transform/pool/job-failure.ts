/**
 * How a codec job fails: the executor throws a JobError carrying a JobFailure (code, message, index of
 * the block or chunk); the failure crosses the thread boundary as data and the pool rejects the job's
 * promise with a JobError again, which `codecError` turns into a message naming the file and offset.
 */
import type { JobFailure } from './jobs.js';

/** A job that failed inside a worker, with the worker's description of what was wrong. */
export class JobError extends Error {
  constructor(readonly failure: JobFailure) {
    super(failure.message);
    this.name = 'JobError';
  }
}

/** Ends a job: `item` is the index of the block or chunk at fault, `integrity` marks checksum and authentication failures. */
export function fail(code: string, message: string, item?: number, integrity = false): never {
  throw new JobError({ code, message, ...(item === undefined ? {} : { item }), integrity });
}

/** The failure to send back for anything an executor threw. */
export function describeFailure(err: unknown): JobFailure {
  if (err instanceof JobError) return err.failure;
  return { code: 'E_CODEC', message: errorText(err) };
}

/** The message of something thrown by a codec library (which may throw non-Errors). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
