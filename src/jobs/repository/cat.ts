/** `catFile`: a file or named stream of a snapshot written to the caller's output, verified as it goes. */
import { sendStream, type SentStream, type StreamOutput } from '../stream/output.js';
import { StreamCounter, type StreamProgress } from '../stream/progress.js';
import type { Repository } from '../../repo/repository.js';
import { openFile, type OpenFileOptions } from './browse.js';

export interface CatFileOptions extends Omit<OpenFileOptions, 'signal'>, Partial<StreamOutput> {
  /** Read and verify everything, write nothing (a restore test); so does a call without `output`. */
  verifyOnly?: boolean;
  onProgress?: (progress: StreamProgress) => void;
}

/**
 * Writes the file `snapshot` names (`latest:db.sql`, `3f2a91c0:/etc/hosts`) to `options.output`. Every
 * chunk is authenticated and its id checked before it is written; the length and SHA-256 are checked at
 * the end (IntegrityError, exit status 4): bytes already written cannot be taken back.
 */
export async function catFile(repo: Repository, snapshot: string, options: CatFileOptions): Promise<SentStream> {
  const { data } = await openFile(repo, snapshot, {
    ...(options.path === undefined ? {} : { path: options.path }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const counter = new StreamCounter(options.onProgress);
  if (options.verifyOnly === true || options.output === undefined) {
    for await (const chunk of counter.filter(data)) void chunk;
    return { bytes: counter.bytes };
  }
  return sendStream(data, { ...options, output: options.output }, counter);
}
