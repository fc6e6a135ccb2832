/** The one place where errors become messages and exit statuses. */
import { CommanderError } from 'commander';
import { ExitCode, SluiceError } from '../errors.js';
import type { CliContext } from './context.js';
import { printError } from './log.js';
import { VERSION } from './version.js';

export const EXIT_STATUS_HELP = `
Exit status:
  0    success
  1    failure
  2    usage error
  3    finished, but some items were skipped (see the warnings)
  4    integrity failure: a checksum, digest or authentication tag did not match
  10   repository does not exist     11  repository is locked     12  wrong password
  70   internal error: a bug in sluice (the message says what to report)
  130  interrupted`;

export function exitStatusFor(ctx: CliContext, err: unknown, args: readonly string[] = []): number {
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
  return reportInternalError(ctx, err, args);
}

/**
 * Anything that is neither a SluiceError nor a system call's error is a defect in sluice: it is reported
 * as one, with what a bug report needs, and the output must not be trusted.
 */
function reportInternalError(ctx: CliContext, err: unknown, args: readonly string[]): number {
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  printError(ctx, `internal error: ${what}`);
  const stack = err instanceof Error && err.stack !== undefined ? err.stack.split('\n').slice(1) : [];
  ctx.stderr.write(
    [
      'This is a bug in sluice, not in your data or your command. The output of this run is incomplete: do not use it.',
      'Please report it with these lines:',
      `  sluice ${VERSION}, node ${process.version}, ${process.platform}-${process.arch}`,
      `  command: sluice ${redacted(args).join(' ')}`,
      ...stack,
      '',
    ].join('\n'),
  );
  return ExitCode.internal;
}

function isBrokenPipe(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'EPIPE';
}

/** Options whose value is a secret, never printed. */
const SECRET_OPTIONS = new Set(['-p', '--password', '--encrypt-key']);

/** The command line with secrets replaced, quoted where a shell would need it. */
export function redacted(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    const eq = arg.indexOf('=');
    if (eq > 0 && SECRET_OPTIONS.has(arg.slice(0, eq))) return `${arg.slice(0, eq)}=***`;
    if (/^-p.+/.test(arg)) return '-p***';
    if (i > 0 && SECRET_OPTIONS.has(args[i - 1] as string)) return '***';
    return /^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
  });
}
