/** `sluice diff A B`: what changed between two snapshots. */
import type { Command } from 'commander';
import { diffTrees } from '../../repo/snapshot/diff.js';
import { listSnapshots, resolveSnapshot, shortId } from '../../repo/snapshot/snapshots.js';
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
        const { repo } = opened;
        const all = await listSnapshots(repo);
        const a = resolveSnapshot(all, from);
        const b = resolveSnapshot(all, to);
        await repo.loadIndex();
        let counts = { '+': 0, '-': 0, M: 0, U: 0, T: 0 };
        for await (const item of diffTrees(repo, a.snapshot.tree, b.snapshot.tree, '')) {
          counts = { ...counts, [item.change]: counts[item.change] + 1 };
          if (options.json === true) ctx.stdout.write(`${JSON.stringify(item)}\n`);
          else ctx.stdout.write(`${item.change}    ${item.path}${item.what !== undefined && item.change === 'U' ? `  (${item.what.join(', ')})` : ''}\n`);
        }
        if (options.json !== true) {
          ctx.stderr.write(`${shortId(a.id)} → ${shortId(b.id)}: ${counts['+']} added, ${counts['-']} removed, ${counts.M} modified, ${counts.U} metadata, ${counts.T} type changes\n`);
        }
      } finally {
        await opened.close();
      }
    });
  },
};
