/** `sluice restore SNAPSHOT[:PATH] --target DIR [--include PATH]...`: restores into a directory, safely. */
import type { Command } from 'commander';
import { restore } from '../../jobs/repository/restore.js';
import { UsageError } from '../../errors.js';
import { shortId } from '../../jobs/repository/ref.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { addRepoOptions, openRepository, printJson, type RepoOptions } from '../repo-options.js';
import { formatBytes, parseCount } from '../units.js';
import { addPhysicalRestoreOptions, type PhysicalRestoreFlags, runPhysicalRestore, wantsPhysicalRestore } from './snapshot-physical.js';

interface RestoreOptions extends RepoOptions {
  target?: string;
  include: string[];
  overwrite?: boolean;
  concurrency: string;
  host?: string;
  verbose?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const restoreCommand: CommandModule = {
  name: 'restore',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('restore')
      .summary('restore a snapshot (or part of it) into a directory')
      .description(
        'Restore a snapshot into --target. Paths are checked before anything is written: nothing goes outside\n' +
          'the target and nothing is written through a symlink. Each file is verified (chunk ids, length and\n' +
          'SHA-256) before it appears under its name. SNAPSHOT:PATH restores only that subtree, re-rooted.',
      )
      .argument('<snapshot>', 'snapshot id prefix or "latest", optionally :PATH')
      .option('-t, --target <dir>', 'directory to restore into (created if missing); required unless --datadir/--pgdata')
      .option('-i, --include <path>', 'restore only this path (repeatable)', collect, [])
      .option('--overwrite', 'replace files that already exist in the target')
      .option('--concurrency <n>', 'chunks fetched and decrypted at once', '8')
      .option('--host <name>', 'with "latest": the newest snapshot of this host')
      .option('-v, --verbose', 'list each restored file on stderr')
      .option('--json', 'print a JSON summary');
    addPhysicalRestoreOptions(command);
    addRepoOptions(command).action(async (snapshot: string, options: RestoreOptions & PhysicalRestoreFlags) => {
      if (wantsPhysicalRestore(options)) return runPhysicalRestore(ctx, snapshot, options);
      if (options.target === undefined) throw new UsageError('--target is required');
      const target = options.target;
      const concurrency = parseCount(options.concurrency, '--concurrency', 1, 256);
      const opened = await openRepository(ctx, options, 'none');
      try {
        const { snapshot: ref, ...stats } = await restore(opened.repo, snapshot, {
          target,
          ...(options.host === undefined ? {} : { host: options.host }),
          include: options.include,
          overwrite: options.overwrite === true,
          concurrency,
          signal: ctx.signal,
          onFile: (path, bytes) => {
            if (options.verbose === true) info(ctx, `restored /${path} (${bytes} bytes)`);
          },
        });
        if (options.json === true) printJson(ctx, { snapshot: ref.id, target, ...stats });
        else info(ctx, `restored snapshot ${shortId(ref.id)}: ${stats.files} files, ${stats.dirs} dirs, ${stats.symlinks} symlinks, ${formatBytes(stats.bytes)}`);
      } finally {
        await opened.close();
      }
    });
  },
};
