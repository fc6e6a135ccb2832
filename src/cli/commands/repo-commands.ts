/** The repository commands (issue #4), registered together from index.ts. */
import type { CommandModule } from '../command.js';
import { catCommand } from './repo-cat.js';
import { checkCommand } from './repo-check.js';
import { copyCommand } from './repo-copy.js';
import { diffCommand } from './repo-diff.js';
import { forgetCommand } from './repo-forget.js';
import { keyCommand } from './repo-key.js';
import { pruneCommand } from './repo-prune.js';
import { unlockCommand } from './repo-unlock.js';
import { initCommand } from './repo-init.js';
import { lsCommand } from './repo-ls.js';
import { restoreCommand } from './repo-restore.js';
import { snapshotCommand } from './repo-snapshot.js';
import { snapshotsCommand } from './repo-snapshots.js';

export const repositoryCommands: CommandModule[] = [
  initCommand,
  snapshotCommand,
  snapshotsCommand,
  lsCommand,
  catCommand,
  restoreCommand,
  diffCommand,
  checkCommand,
  forgetCommand,
  pruneCommand,
  keyCommand,
  unlockCommand,
  copyCommand,
];
