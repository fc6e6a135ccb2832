/**
 * The command tree: commander with the modules of the command being run (every module for the overall
 * help), then one run of it, its outcome mapped to an exit status. main.ts loads this module only once it
 * knows the answer is not just the version.
 */
import { Command } from 'commander';
import { normalizeOptionalValues } from './argv.js';
import type { CommandModule } from './command.js';
import { loadCommands } from './commands/index.js';
import type { CliContext } from './context.js';
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

/** Runs one command line; the exit status it asks for. */
export async function runProgram(args: readonly string[], ctx: CliContext): Promise<number> {
  try {
    const commands = await loadCommands(args[0]);
    await buildProgram(ctx, commands).parseAsync(normalizeArgs(args, commands), { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    return exitStatusFor(ctx, err, args);
  }
}
