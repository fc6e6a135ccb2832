/** Where an engine tool's messages go when the caller names no log file. */
import { join } from 'node:path';

/** A new log file in `parent` for one run of `what` (removed by the job after a success). */
export function defaultLogFile(parent: string, what: string): string {
  return join(parent, `sluice-${what}-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
}
