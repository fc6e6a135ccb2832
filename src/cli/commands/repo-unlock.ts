/** `sluice unlock [--remove-all]`: removes stale locks (or all locks) left by crashed processes. */
import type { Command } from 'commander';
import { unlock } from '../../jobs/repository/unlock.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { addRepoOptions, openRepository, type RepoOptions } from '../repo-options.js';

export const unlockCommand: CommandModule = {
  name: 'unlock',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('unlock')
      .summary('remove stale locks')
      .description('Remove locks whose holder is gone: not refreshed for 30 minutes, or a process of this host that no longer runs.')
      .option('--remove-all', 'remove every lock, even live ones (only when you know no sluice is using the repository)');
    addRepoOptions(command).action(async (options: RepoOptions & { removeAll?: boolean }) => {
      const opened = await openRepository(ctx, options, 'none');
      try {
        const removed = await unlock(opened.repo, { all: options.removeAll === true });
        for (const l of removed) info(ctx, `removed lock of ${l.purpose} (pid ${l.pid} on ${l.host}, ${l.time})`);
        info(ctx, `${removed.length} lock(s) removed`);
      } finally {
        await opened.close();
      }
    });
  },
};
