#!/usr/bin/env node
/** The `sluice` binary: builds the command tree, runs one command, maps its outcome to an exit status. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { normalizeOptionalValues } from './argv.js';
import type { CommandModule } from './command.js';
import { loadCommands } from './commands/index.js';
import { type CliContext, processContext } from './context.js';
import { EXIT_STATUS_HELP, exitStatusFor } from './exit.js';
import { VERSION } from './version.js';

export function buildProgram(ctx: CliContext, commands: readonly CommandModule[]): Command {
  const program = new Command('sluice')
    .description('Streaming backups: xbstream/tar streams, MySQL dumps, an encrypted deduplicated repository')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .addHelpText('after', EXIT_STATUS_HELP)
    .exitOverride();
  for (const module of commands) module.register(program, ctx);
  for (const sub of program.commands) {
    sub.exitOverride().configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  }
  return program;
}

export function normalizeArgs(args: readonly string[], commands: readonly CommandModule[]): string[] {
  const name = args[0];
  const module = commands.find((c) => c.name === name);
  if (module?.optionalValues === undefined) return [...args];
  return [name as string, ...normalizeOptionalValues(args.slice(1), module.optionalValues)];
}

export async function main(args: readonly string[], ctx: CliContext): Promise<number> {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    // answered before any command module loads: start-up is most of what this costs
    ctx.stdout.write(`${VERSION}\n`);
    return 0;
  }
  try {
    const commands = await loadCommands(args[0]);
    await buildProgram(ctx, commands).parseAsync(normalizeArgs(args, commands), { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    return exitStatusFor(ctx, err, args);
  }
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
