/** The shape every command module has, so main.ts can register them from one list. */
import type { Command } from 'commander';
import type { OptionalValues } from './argv.js';
import type { CliContext } from './context.js';

export interface CommandModule {
  name: string;
  /** Options of this command whose value is optional, with their choices; the first is the default. */
  optionalValues?: OptionalValues;
  register(program: Command, ctx: CliContext): void;
}
