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
  // the repository commands, one module each: `snapshots` need not load what `snapshot` and `check` import
  { names: ['init'], load: async () => [(await import('./repo-init.js')).initCommand] },
  { names: ['snapshot'], load: async () => [(await import('./repo-snapshot.js')).snapshotCommand] },
  { names: ['snapshots'], load: async () => [(await import('./repo-snapshots.js')).snapshotsCommand] },
  { names: ['ls'], load: async () => [(await import('./repo-ls.js')).lsCommand] },
  { names: ['cat'], load: async () => [(await import('./repo-cat.js')).catCommand] },
  { names: ['restore'], load: async () => [(await import('./repo-restore.js')).restoreCommand] },
  { names: ['diff'], load: async () => [(await import('./repo-diff.js')).diffCommand] },
  { names: ['check'], load: async () => [(await import('./repo-check.js')).checkCommand] },
  { names: ['forget'], load: async () => [(await import('./repo-forget.js')).forgetCommand] },
  { names: ['prune'], load: async () => [(await import('./repo-prune.js')).pruneCommand] },
  { names: ['key'], load: async () => [(await import('./repo-key.js')).keyCommand] },
  { names: ['unlock'], load: async () => [(await import('./repo-unlock.js')).unlockCommand] },
  { names: ['find'], load: async () => [(await import('./repo-find.js')).findCommand] },
  { names: ['history'], load: async () => [(await import('./repo-history.js')).historyCommand] },
  { names: ['ui'], load: async () => [(await import('./ui.js')).uiCommand] },
  { names: ['copy'], load: async () => [(await import('./repo-copy.js')).copyCommand] },
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
