/** The one place where errors become messages and exit statuses. */
import { CommanderError } from 'commander';
import { ExitCode, SluiceError } from '../errors.js';
import type { CliContext } from './context.js';
import { printError } from './log.js';

export const EXIT_STATUS_HELP = `
Exit status:
  0    success
  1    failure
  2    usage error
  3    finished, but some items were skipped (see the warnings)
  4    integrity failure: a checksum, digest or authentication tag did not match
  10   repository does not exist     11  repository is locked     12  wrong password
  130  interrupted`;

export function exitStatusFor(ctx: CliContext, err: unknown): number {
  if (ctx.signal.aborted && !(err instanceof SluiceError && err.exitCode === ExitCode.integrity)) {
    printError(ctx, 'interrupted');
    return ExitCode.interrupted;
  }
  if (err instanceof CommanderError) {
    // Commander has already printed its own message (or the help text).
    if (err.exitCode === 0) return ExitCode.ok;
    return ExitCode.usage;
  }
  if (isBrokenPipe(err)) {
    printError(ctx, 'the reader of stdout went away before the stream was complete (broken pipe)');
    return ExitCode.failure;
  }
  if (err instanceof SluiceError) {
    printError(ctx, err.message);
    if (err.cause !== undefined && ctx.env.SLUICE_DEBUG !== undefined) ctx.stderr.write(`${String(err.cause)}\n`);
    return err.exitCode;
  }
  if (err instanceof Error && (err as NodeJS.ErrnoException).code !== undefined) {
    printError(ctx, err.message);
    if (ctx.env.SLUICE_DEBUG !== undefined && err.stack !== undefined) ctx.stderr.write(`${err.stack}\n`);
    return ExitCode.failure;
  }
  printError(ctx, err instanceof Error ? (err.stack ?? err.message) : String(err));
  return ExitCode.failure;
}

function isBrokenPipe(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'EPIPE';
}
