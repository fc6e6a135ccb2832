/** Every command the binary has; each module registers itself. */
import type { CommandModule } from '../command.js';

export const commands: CommandModule[] = [];
