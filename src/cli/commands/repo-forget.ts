/** `sluice forget [SNAPSHOT...] [--keep-…] [--prune]`: removes snapshots by id or by a retention policy. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { checkForgetRequest, forget } from '../../jobs/repository/maintenance.js';
import type { GroupBy, KeepPolicy } from '../../jobs/repository/types.js';
import { shortId } from '../../jobs/repository/ref.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { addRepoOptions, openRepository, parseDuration, printJson, type RepoOptions } from '../repo-options.js';
import { printPruneReport } from './repo-prune.js';

interface ForgetOptions extends RepoOptions {
  keepLast?: string;
  keepHourly?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  keepYearly?: string;
  keepWithin?: string;
  keepTag: string[];
  tag: string[];
  host?: string;
  groupBy: string;
  dryRun?: boolean;
  prune?: boolean;
  maxUnused: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function count(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${option}: "${text}" is not a whole number`);
  return n;
}

export const forgetCommand: CommandModule = {
  name: 'forget',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('forget')
      .summary('remove snapshots (by id, or all but those a policy keeps)')
      .description(
        'Remove snapshot objects. With ids, those snapshots; with --keep-* rules, every snapshot no rule keeps,\n' +
          'per group (host and paths by default). Data is freed by `prune` (or --prune).',
      )
      .argument('[snapshots...]', 'snapshot ids to remove')
      .option('--keep-last <n>', 'keep the newest N')
      .option('--keep-hourly <n>', 'keep the newest in each of the last N hours that have snapshots')
      .option('--keep-daily <n>', 'keep the newest in each of the last N days that have snapshots')
      .option('--keep-weekly <n>', 'keep the newest in each of the last N weeks that have snapshots')
      .option('--keep-monthly <n>', 'keep the newest in each of the last N months that have snapshots')
      .option('--keep-yearly <n>', 'keep the newest in each of the last N years that have snapshots')
      .option('--keep-within <duration>', 'keep everything within this long of the newest (e.g. 7d)')
      .option('--keep-tag <tag>', 'keep every snapshot with this tag (repeatable)', collect, [])
      .option('--tag <tag>', 'only consider snapshots with this tag (repeatable)', collect, [])
      .option('--host <name>', 'only consider snapshots of this host')
      .option('--group-by <fields>', 'group by host,paths | host | paths | none', 'host,paths')
      .option('-n, --dry-run', 'only print what would be removed')
      .option('--prune', 'run prune afterwards')
      .option('--max-unused <percent>', 'for --prune: unused space tolerated in kept packs', '5%')
      .option('--json', 'print the decisions as JSON');
    addRepoOptions(command).action(async (ids: string[], options: ForgetOptions) => {
      const policy: KeepPolicy = {};
      const set = (key: keyof KeepPolicy, value: number | undefined): void => {
        if (value !== undefined) (policy as Record<string, unknown>)[key] = value;
      };
      set('last', count(options.keepLast, '--keep-last'));
      set('hourly', count(options.keepHourly, '--keep-hourly'));
      set('daily', count(options.keepDaily, '--keep-daily'));
      set('weekly', count(options.keepWeekly, '--keep-weekly'));
      set('monthly', count(options.keepMonthly, '--keep-monthly'));
      set('yearly', count(options.keepYearly, '--keep-yearly'));
      if (options.keepWithin !== undefined) policy.withinMs = parseDuration(options.keepWithin, '--keep-within');
      if (options.keepTag.length > 0) policy.tags = options.keepTag;
      const groupBy = options.groupBy as GroupBy;
      if (!['host,paths', 'host', 'paths', 'none'].includes(groupBy)) throw new UsageError(`--group-by: "${options.groupBy}" is not host,paths, host, paths or none`);
      // Refused before the password is asked (the job checks the same).
      checkForgetRequest(ids, policy);
      const retryLockMs = parseDuration(options.retryLock ?? '0', '--retry-lock');

      const opened = await openRepository(ctx, options, { exclusive: false, purpose: 'forget' });
      try {
        const result = await forget(opened.repo, {
          ids,
          policy,
          tags: options.tag,
          ...(options.host === undefined ? {} : { host: options.host }),
          groupBy,
          dryRun: options.dryRun === true,
          ...(options.prune === true
            ? {
                prune: {
                  maxUnused: Number(options.maxUnused.replace(/%$/, '')) / 100,
                  onProgress: (m: string) => info(ctx, m),
                  retryLockMs,
                  ...(opened.lock === undefined ? {} : { lock: opened.lock }),
                },
              }
            : {}),
          onPlan: ({ groups, remove }) => {
            if (options.json === true) {
              printJson(ctx, {
                dryRun: options.dryRun === true,
                groups: groups?.map((d) => ({ group: d.group, keep: d.keep.map((k) => ({ id: k.ref.id, time: k.ref.snapshot.time, reasons: k.reasons })), remove: d.remove.map((r) => ({ id: r.id, time: r.snapshot.time })) })),
                removed: remove.map((r) => r.id),
              });
              return;
            }
            for (const d of groups ?? []) {
              info(ctx, `${d.group === '' ? 'all snapshots' : d.group}: keep ${d.keep.length}, remove ${d.remove.length}`);
              for (const k of d.keep) info(ctx, `  keep   ${shortId(k.ref.id)}  ${k.ref.snapshot.time}  (${k.reasons.join(', ')})`);
              for (const r of d.remove) info(ctx, `  remove ${shortId(r.id)}  ${r.snapshot.time}`);
            }
          },
          onRemoved: (removed) => {
            if (options.json !== true) info(ctx, `removed ${removed.length} snapshot(s)`);
          },
        });
        if (result.prune !== undefined && options.json !== true) printPruneReport(ctx, result.prune);
      } finally {
        await opened.close();
      }
    });
  },
};
