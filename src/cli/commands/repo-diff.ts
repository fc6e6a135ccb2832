/** `sluice diff A B`: what changed between two snapshots. */
import type { Command } from 'commander';
import { diff } from '../../jobs/repository/browse.js';
import { shortId } from '../../jobs/repository/ref.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { addRepoOptions, openRepository, type RepoOptions } from '../repo-options.js';

export const diffCommand: CommandModule = {
  name: 'diff',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('diff')
      .summary('show what changed between two snapshots')
      .description('Lines start with + (added), - (removed), M (content changed), U (metadata only), T (type changed).')
      .argument('<from>', 'older snapshot (id prefix or latest)')
      .argument('<to>', 'newer snapshot (id prefix or latest)')
      .option('--json', 'print one JSON object per change (NDJSON)');
    addRepoOptions(command).action(async (from: string, to: string, options: RepoOptions) => {
      const opened = await openRepository(ctx, options, 'none');
      try {
        const result = await diff(opened.repo, from, to);
        for await (const item of result.changes) {
          if (options.json === true) ctx.stdout.write(`${JSON.stringify(item)}\n`);
          else ctx.stdout.write(`${item.change}    ${item.path}${item.what !== undefined && item.change === 'U' ? `  (${item.what.join(', ')})` : ''}\n`);
        }
        if (options.json !== true) {
          const counts = result.counts;
          ctx.stderr.write(`${shortId(result.from.id)} → ${shortId(result.to.id)}: ${counts['+']} added, ${counts['-']} removed, ${counts.M} modified, ${counts.U} metadata, ${counts.T} type changes\n`);
        }
      } finally {
        await opened.close();
      }
    });
  },
};
