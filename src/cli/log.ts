/** Messages for people go to stderr, prefixed with the program name. */
import type { CliContext } from './context.js';

export function warn(ctx: CliContext, message: string): void {
  ctx.stderr.write(`sluice: warning: ${message}\n`);
}

export function info(ctx: CliContext, message: string): void {
  ctx.stderr.write(`sluice: ${message}\n`);
}

export function printError(ctx: CliContext, message: string): void {
  ctx.stderr.write(`sluice: error: ${message}\n`);
}
