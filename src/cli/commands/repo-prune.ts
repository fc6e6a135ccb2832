/** `sluice prune`: deletes data no snapshot uses (mark and sweep under an exclusive lock). */
import type { Command } from 'commander';
import { prune } from '../../jobs/repository/maintenance.js';
import type { PruneReport } from '../../jobs/repository/types.js';
import { UsageError } from '../../errors.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { addRepoOptions, openRepository, printJson, type RepoOptions } from '../repo-options.js';
import { formatBytes } from '../units.js';

interface PruneOptions extends RepoOptions {
  maxUnused: string;
  dryRun?: boolean;
  quiet?: boolean;
}

export function printPruneReport(ctx: CliContext, r: PruneReport): void {
  info(
    ctx,
    `${r.dryRun ? 'would delete' : 'deleted'} ${r.packsDeleted} unused and ${r.unindexedPacksDeleted} unindexed packs, ` +
      `${r.dryRun ? 'would repack' : 'repacked'} ${r.packsRepacked} (${r.packsWritten} written); ` +
      `${formatBytes(r.bytesBefore)} → ${formatBytes(r.bytesAfter)}; index objects ${r.indexObjectsBefore} → ${r.indexObjectsAfter}`,
  );
}

export const pruneCommand: CommandModule = {
  name: 'prune',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('prune')
      .summary('delete data that no snapshot references')
      .description(
        'Mark every blob the snapshots use, delete packs with none, repack packs that are mostly unused,\n' +
          'and write a compact index. Takes an exclusive lock: it waits for (with --retry-lock) or refuses to\n' +
          'run beside backups, so it never deletes data a running backup is about to reference.',
      )
      .option('--max-unused <percent>', 'unused space tolerated in kept packs, as a share of used space', '5%')
      .option('-n, --dry-run', 'only report what would be deleted')
      .option('-q, --quiet', 'print nothing but errors')
      .option('--json', 'print the report as JSON');
    addRepoOptions(command).action(async (options: PruneOptions) => {
      const maxUnused = Number(options.maxUnused.replace(/%$/, '')) / 100;
      if (!Number.isFinite(maxUnused) || maxUnused < 0 || maxUnused > 1) throw new UsageError(`--max-unused: "${options.maxUnused}" is not a percentage`);
      const opened = await openRepository(ctx, options, { exclusive: true, purpose: 'prune' });
      try {
        const report = await prune(opened.repo, {
          maxUnused,
          dryRun: options.dryRun === true,
          onProgress: (m) => {
            if (options.quiet !== true && options.json !== true) info(ctx, m);
          },
        });
        if (options.json === true) printJson(ctx, report);
        else if (options.quiet !== true) printPruneReport(ctx, report);
      } finally {
        await opened.close();
      }
    });
  },
};
