/** `sluice copy --from-repo SRC [--repo DST] [--tag T] [--host H] [ID|latest ...]`: copies snapshots between repositories. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { copySnapshots } from '../../jobs/repository/copy.js';
import { shortId } from '../../jobs/repository/ref.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { addRepoOptions, openRepository, printJson, type RepoOptions } from '../repo-options.js';
import { formatBytes, parseCount } from '../units.js';

interface CopyCliOptions extends RepoOptions {
  fromRepo?: string;
  fromPasswordFile?: string;
  tag: string[];
  host?: string;
  uploadConnections?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The context the source repository is opened with: its location and password come from the --from-* settings. */
function sourceContext(ctx: CliContext, options: CopyCliOptions): { ctx: CliContext; options: RepoOptions } {
  const repo = options.fromRepo ?? ctx.env.SLUICE_FROM_REPO;
  if (repo === undefined || repo === '') throw new UsageError('no source repository: pass --from-repo LOCATION or set SLUICE_FROM_REPO');
  const env: NodeJS.ProcessEnv = { ...ctx.env, SLUICE_PASSWORD_FILE: ctx.env.SLUICE_FROM_PASSWORD_FILE };
  if (ctx.env.SLUICE_FROM_PASSWORD === undefined) delete env.SLUICE_PASSWORD;
  else env.SLUICE_PASSWORD = ctx.env.SLUICE_FROM_PASSWORD;
  if (env.SLUICE_PASSWORD_FILE === undefined) delete env.SLUICE_PASSWORD_FILE;
  // A prototype link, not a copy: the context's stdin is a getter that must stay lazy.
  const fromCtx = Object.assign(Object.create(ctx) as CliContext, { env });
  const { fromPasswordFile, ...rest } = options;
  return { ctx: fromCtx, options: { ...rest, repo, ...(fromPasswordFile === undefined ? { passwordFile: undefined } : { passwordFile: fromPasswordFile }) } };
}

export const copyCommand: CommandModule = {
  name: 'copy',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('copy')
      .summary('copy snapshots from another repository into this one')
      .description(
        'Copy snapshots (all, or the ids / "latest" given) from --from-repo into --repo, re-encrypted for the\n' +
          'target\'s keys. Only blobs the target lacks are stored; a snapshot the target already has (same time,\n' +
          'host, user, paths, streams and tags) is skipped, so a second run copies nothing.\n\n' +
          'Examples:\n' +
          '  sluice copy --from-repo /backups/local --repo s3:https://s3.example.com/backups/prod --tag nightly\n' +
          '  sluice copy --from-repo s3:http://127.0.0.1:7480/backups/prod --repo /restore/repo latest',
      )
      .argument('[snapshots...]', 'snapshot ids (at least 4 hex digits) or "latest" (default: every snapshot)')
      .option('--from-repo <location>', 'the source repository (default: $SLUICE_FROM_REPO)')
      .option('--from-password-file <file>', 'the source\'s password (default: $SLUICE_FROM_PASSWORD_FILE, $SLUICE_FROM_PASSWORD)')
      .option('--tag <tag>', 'only snapshots with this tag (repeatable: all must match)', collect, [])
      .option('--host <name>', 'only snapshots from this host')
      .option('--upload-connections <n>', 'packs uploaded at once to the target (default: 4 to S3, 2 to a local directory)')
      .option('--json', 'print a JSON summary');
    addRepoOptions(command).action(async (refs: string[], options: CopyCliOptions) => {
      const from = sourceContext(ctx, options);
      const source = await openRepository(from.ctx, from.options, { exclusive: false, purpose: 'copy (source)' });
      try {
        const target = await openRepository(ctx, options, { exclusive: false, purpose: 'copy' });
        try {
          const report = await copySnapshots(source.repo, target.repo, {
            snapshots: refs,
            tags: options.tag.flatMap((t) => t.split(',')).filter((t) => t !== ''),
            ...(options.host === undefined ? {} : { host: options.host }),
            ...(options.uploadConnections === undefined ? {} : { uploads: parseCount(options.uploadConnections, '--upload-connections', 1, 64) }),
            onSnapshot: ({ source: s, copied }) => {
              if (options.json === true) return;
              if (copied === undefined) info(ctx, `snapshot ${shortId(s.id)} of ${s.snapshot.time} is in the target already`);
              else info(ctx, `snapshot ${shortId(s.id)} of ${s.snapshot.time} copied as ${shortId(copied)}`);
            },
          });
          if (options.json === true) printJson(ctx, report);
          else {
            info(
              ctx,
              `copied ${report.snapshotsCopied} snapshot(s), ${report.snapshotsSkipped} already present; ` +
                `${report.blobsCopied} new blobs (${formatBytes(report.bytesCopied)}) in ${report.packsWritten} packs`,
            );
          }
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    });
  },
};
