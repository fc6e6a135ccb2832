/**
 * Every command the binary has. A command's module (and the libraries it needs) is loaded only when that
 * command runs, or all of them for the overall help: startup stays small for every command.
 * Developers: read CONTRIBUTING.md first. Several people edit this tree at once; add only your own lines here.
 */
import type { CommandModule } from '../command.js';

export interface CommandGroup {
  /** The command names the module(s) register. */
  names: readonly string[];
  load: () => Promise<CommandModule[]>;
}

export const commandGroups: CommandGroup[] = [
  { names: ['backup'], load: async () => [(await import('./backup.js')).backupCommand] },
  { names: ['xbstream'], load: async () => [(await import('./xbstream.js')).xbstreamCommand] },
  { names: ['verify'], load: async () => [(await import('./verify.js')).verifyCommand] },
  { names: ['decompress'], load: async () => [(await import('./decompress.js')).decompressCommand] },
  { names: ['decrypt'], load: async () => [(await import('./decrypt.js')).decryptCommand] },
  {
    names: ['init', 'snapshot', 'snapshots', 'ls', 'cat', 'restore', 'diff', 'check', 'forget', 'prune', 'key', 'unlock', 'copy'],
    load: async () => (await import('./repo-commands.js')).repositoryCommands,
  },
  { names: ['dump'], load: async () => [(await import('./dump.js')).dumpCommand] },
  { names: ['load'], load: async () => [(await import('./load.js')).loadCommand] },
  { names: ['prepare', 'copy-back', 'restore-pgdata'], load: async () => { const m = await import('./physical.js'); return [m.prepareCommand, m.copyBackCommand, m.restorePgdataCommand]; } },
];

/** The modules needed to run `name`, or every module when `name` is not a command (help, typos). */
export async function loadCommands(name: string | undefined): Promise<CommandModule[]> {
  const group = commandGroups.find((g) => name !== undefined && g.names.includes(name));
  if (group !== undefined) return group.load();
  return (await Promise.all(commandGroups.map((g) => g.load()))).flat();
}
