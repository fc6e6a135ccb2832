/** Named streams of a snapshot, and the outcome of the command that produced one. */
import { SluiceError } from '../../../errors.js';
import type { StreamInfo } from '../tree.js';

export interface ProducerResult {
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
  command: string[];
}

export type StreamSource = { kind: 'stdin' } | { kind: 'command'; result: Promise<ProducerResult> };

export class ProducerFailedError extends SluiceError {
  constructor(name: string, result: ProducerResult) {
    const how = result.signal !== null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
    super('E_PRODUCER_FAILED', `the command producing stream ${JSON.stringify(name)} ${how}; no snapshot was written${result.stderrTail.length > 0 ? `; its stderr ended with: ${result.stderrTail.trim().slice(-500)}` : ''}`, { path: name });
  }
}

/**
 * What the tree records of a stream's source, once its bytes are stored. A command's stream counts only
 * if the command exited 0: otherwise ProducerFailedError, and the caller must not commit.
 */
export async function streamInfo(at: string, source: StreamSource): Promise<StreamInfo> {
  const stream: StreamInfo = { source: source.kind };
  if (source.kind === 'command') {
    const result = await source.result;
    stream.command = result.command;
    if (result.exitCode !== null) stream.exitCode = result.exitCode;
    if (result.signal !== null) stream.signal = result.signal;
    if (result.stderrTail.length > 0) stream.stderrTail = result.stderrTail;
    if (result.exitCode !== 0) throw new ProducerFailedError(at, result);
  }
  return stream;
}
