#!/usr/bin/env node
/** The `sluice` binary: the process around one command line (signals, stdout, exit status); program.ts runs it. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CliContext, processContext } from './context.js';
import { VERSION } from './version.js';

/**
 * Runs one command line. `--version` is answered here, before commander or any command loads (start-up is
 * all that costs); everything else goes through program.ts, which loads only the modules the command uses.
 */
export async function main(args: readonly string[], ctx: CliContext): Promise<number> {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    ctx.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const { runProgram } = await import('./program.js');
  return runProgram(args, ctx);
}

function isEntryPoint(): boolean {
  const invoked = process.argv[1];
  if (invoked === undefined) return false;
  try {
    return realpathSync(invoked) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    controller.abort(new Error('interrupted'));
    // Give the command a moment to clean up (remove partial files, release locks), then stop regardless.
    setTimeout(() => process.exit(130), 5000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed stdout is reported by the command that writes to it; never crash on the event.
  process.stdout.on('error', () => undefined);
  const ctx = processContext(controller.signal);
  let settled = false;
  // If the event loop empties while the command is still waiting, Node would exit 0: never let it.
  process.on('beforeExit', () => {
    if (settled) return;
    settled = true;
    process.stderr.write('sluice: internal error: the command stopped before finishing (nothing left to wait for)\n');
    process.exitCode = 1;
  });
  main(process.argv.slice(2), ctx).then(
    (status) => {
      settled = true;
      process.exitCode = controller.signal.aborted ? 130 : status;
    },
    (err: unknown) => {
      settled = true;
      process.stderr.write(`sluice: internal error: ${String(err)}\n`);
      process.exitCode = controller.signal.aborted ? 130 : 1;
    },
  );
}
