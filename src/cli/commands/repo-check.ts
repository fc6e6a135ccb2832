/** `sluice check [--read-data | --read-data-subset=N%|n/t]`: verifies the repository. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { check, checkFailure } from '../../jobs/repository/maintenance.js';
import type { ReadDataSelection } from '../../jobs/repository/types.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { addRepoOptions, openRepository, printJson, type RepoOptions } from '../repo-options.js';
import { formatBytes } from '../units.js';

interface CheckOptions extends RepoOptions {
  readData?: boolean;
  readDataSubset?: string;
  withCache?: boolean;
  quiet?: boolean;
}

export function parseSubset(text: string): ReadDataSelection {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (pct !== null) {
    const f = Number(pct[1]) / 100;
    if (f <= 0 || f > 1) throw new UsageError(`--read-data-subset: ${text} is not between 0% and 100%`);
    return { kind: 'fraction', fraction: f };
  }
  const slice = /^(\d+)\/(\d+)$/.exec(text);
  if (slice !== null) {
    const n = Number(slice[1]);
    const of = Number(slice[2]);
    if (n < 1 || n > of || of > 1_000_000) throw new UsageError(`--read-data-subset: ${text} must be n/t with 1 <= n <= t`);
    return { kind: 'slice', n, of };
  }
  throw new UsageError(`--read-data-subset: "${text}" is not N% or n/t`);
}

export const checkCommand: CommandModule = {
  name: 'check',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('check')
      .summary('verify the repository: structure, and with --read-data every byte')
      .description(
        'Check keys, config, index objects against the packs, every snapshot, tree and referenced blob.\n' +
          'With --read-data, read every pack (or a subset), check its hash and open every blob.\n' +
          'The local cache is not used unless --with-cache is given, so a damaged cache cannot hide damage.\n' +
          'Exit status 4 when data fails an integrity check, 1 for other damage.',
      )
      .option('--read-data', 'read and verify all data')
      .option('--read-data-subset <n/t|N%>', 'read and verify a subset of the packs: slice n of t, or a random N%')
      .option('--with-cache', 'use the local cache for index and snapshot objects')
      .option('-q, --quiet', 'print only problems')
      .option('--json', 'print the report as JSON');
    addRepoOptions(command).action(async (options: CheckOptions) => {
      const readData = options.readData === true ? ({ kind: 'all' } as const) : options.readDataSubset === undefined ? undefined : parseSubset(options.readDataSubset);
      const opened = await openRepository(ctx, { ...options, cache: options.withCache === true ? options.cache : false }, { exclusive: false, purpose: 'check' });
      try {
        const report = await check(opened.repo, {
          ...(readData === undefined ? {} : { readData }),
          onProgress: (m) => {
            if (options.quiet !== true && options.json !== true) info(ctx, m);
          },
        });
        if (options.json === true) printJson(ctx, report);
        else {
          for (const note of report.notes) info(ctx, `note: ${note}`);
          for (const p of report.problems) ctx.stderr.write(`sluice: error: ${p.message}\n`);
          if (options.quiet !== true) {
            info(
              ctx,
              `${report.snapshots} snapshots, ${report.trees} trees, ${report.blobs} blobs in ${report.packs} packs, ${report.indexObjects} index objects` +
                (readData === undefined ? '' : `; read ${report.packsRead} packs (${formatBytes(report.bytesRead)})`),
            );
          }
        }
        const failure = checkFailure(report);
        if (failure !== undefined) throw failure;
        if (options.quiet !== true && options.json !== true) info(ctx, 'no errors were found');
      } finally {
        await opened.close();
      }
    });
  },
};
