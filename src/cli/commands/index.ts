/** Every command the binary has; each module registers itself. */
// Developers: read CONTRIBUTING.md first. Several people edit this tree at once; add only your own lines here.
import type { CommandModule } from '../command.js';
import { backupCommand } from './backup.js';
import { decompressCommand } from './decompress.js';
import { decryptCommand } from './decrypt.js';
import { verifyCommand } from './verify.js';
import { xbstreamCommand } from './xbstream.js';
import { repositoryCommands } from './repo-commands.js';
import { dumpCommand } from './dump.js';
import { loadCommand } from './load.js';

export const commands: CommandModule[] = [
  backupCommand,
  xbstreamCommand,
  verifyCommand,
  decompressCommand,
  decryptCommand,
  ...repositoryCommands,
  dumpCommand,
  loadCommand,
];
