/** `sluice find PATTERN...`: entries matching globs across snapshots, newest snapshot first. */
import type { Command } from 'commander';
import { findInSnapshots, matchJson, parseKinds } from '../../jobs/repository/query.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { addSnapshotQueryOptions, matchLine, type SnapshotQueryOptions, snapshotQuery } from '../query-options.js';
import { addRepoOptions, openRepository, type RepoOptions } from '../repo-options.js';
import { parseCount, parseSize } from '../units.js';

interface FindOptions extends RepoOptions, SnapshotQueryOptions {
  ignoreCase?: boolean;
  kind: string[];
  stream?: boolean;
  path?: string;
  minSize?: string;
  maxSize?: string;
  limit?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split(',')];

export const findCommand: CommandModule = {
  name: 'find',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('find')
      .summary('find files, directories and streams by name across snapshots')
      .description(
        'Globs as in --exclude: * (anything but /), ** (anything), ? (one character); a pattern matches the\n' +
          'whole path or its last component. Without a pattern every entry matches. Newest snapshot first.\n\n' +
          "Examples: sluice find '*.sql' --newer 7d\n          sluice find --stream 'db*'",
      )
      .argument('[patterns...]', 'globs (any of them)')
      .option('-i, --ignore-case', 'letters match regardless of case')
      .option('--kind <kind>', 'only file, dir, symlink or stream (repeatable, or comma-separated)', collect, [])
      .option('--stream', 'only named streams (same as --kind stream)')
      .option('--path <path>', 'only entries at or below this path of the snapshot')
      .option('--min-size <size>', 'only files and streams of at least this size (e.g. 10M)')
      .option('--max-size <size>', 'only files and streams of at most this size')
      .option('--limit <n>', 'stop after this many matches')
      .option('--json', 'print one JSON object per match (NDJSON)');
    addRepoOptions(addSnapshotQueryOptions(command)).action(async (patterns: string[], options: FindOptions) => {
      const kinds = parseKinds([...options.kind, ...(options.stream === true ? ['stream'] : [])]);
      const query = {
        ...snapshotQuery(options, new Date()),
        patterns,
        ignoreCase: options.ignoreCase === true,
        kinds,
        signal: ctx.signal,
        ...(options.path === undefined ? {} : { path: options.path }),
        ...(options.minSize === undefined ? {} : { minSize: parseSize(options.minSize, '--min-size') }),
        ...(options.maxSize === undefined ? {} : { maxSize: parseSize(options.maxSize, '--max-size') }),
        ...(options.limit === undefined ? {} : { limit: parseCount(options.limit, '--limit', 1, Number.MAX_SAFE_INTEGER) }),
      };
      const opened = await openRepository(ctx, options, 'none');
      try {
        let count = 0;
        for await (const m of findInSnapshots(opened.repo, query)) {
          count += 1;
          ctx.stdout.write(options.json === true ? `${JSON.stringify(matchJson(m))}\n` : matchLine(m));
        }
        if (options.json !== true) ctx.stderr.write(`${count} match${count === 1 ? '' : 'es'}\n`);
      } finally {
        await opened.close();
      }
    });
  },
};
