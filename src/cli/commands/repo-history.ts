/** `sluice history PATH`: every version of one path across snapshots, newest first. */
import type { Command } from 'commander';
import { historyOf, matchJson, type VersionChange } from '../../jobs/repository/query.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { addSnapshotQueryOptions, matchLine, type SnapshotQueryOptions, snapshotQuery } from '../query-options.js';
import { addRepoOptions, openRepository, type RepoOptions } from '../repo-options.js';

interface HistoryOptions extends RepoOptions, SnapshotQueryOptions {
  changes?: boolean;
}

const MARK: Record<VersionChange, string> = { added: '+ ', changed: 'M ', metadata: 'U ', unchanged: '  ' };

export const historyCommand: CommandModule = {
  name: 'history',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('history')
      .summary('show every version of one path across snapshots')
      .description('Newest first. Marks against the next older version: + appeared, M content changed, U metadata only.')
      .argument('<path>', 'path inside the snapshots, e.g. /etc/nginx/nginx.conf or db.sql')
      .option('--changes', 'only versions whose content differs from the one before')
      .option('--json', 'print one JSON object per version (NDJSON)');
    addRepoOptions(addSnapshotQueryOptions(command)).action(async (path: string, options: HistoryOptions) => {
      const query = { ...snapshotQuery(options, new Date()), changesOnly: options.changes === true, signal: ctx.signal };
      const opened = await openRepository(ctx, options, 'none');
      try {
        let count = 0;
        for await (const v of historyOf(opened.repo, path, query)) {
          count += 1;
          ctx.stdout.write(options.json === true ? `${JSON.stringify(matchJson(v, { change: v.change }))}\n` : matchLine(v, MARK[v.change]));
        }
        if (options.json !== true) ctx.stderr.write(`${count} version${count === 1 ? '' : 's'}\n`);
      } finally {
        await opened.close();
      }
    });
  },
};
