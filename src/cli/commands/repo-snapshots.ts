/** `sluice snapshots`: lists snapshots (id, time, host, tags, size, paths and streams). */
import type { Command } from 'commander';
import { listSnapshots } from '../../jobs/repository/browse.js';
import { shortId } from '../../jobs/repository/ref.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { addRepoOptions, openRepository, printJson, type RepoOptions } from '../repo-options.js';
import { formatBytes } from '../units.js';

interface SnapshotsOptions extends RepoOptions {
  host?: string;
  tag: string[];
  path: string[];
  latest?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

export const snapshotsCommand: CommandModule = {
  name: 'snapshots',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('snapshots')
      .summary('list the snapshots in the repository')
      .option('--host <name>', 'only snapshots from this host')
      .option('--tag <tag>', 'only snapshots with this tag (repeatable: all must match)', collect, [])
      .option('--path <path>', 'only snapshots holding this directory or stream (repeatable)', collect, [])
      .option('--latest <n>', 'only the newest N')
      .option('--json', 'print a JSON array');
    addRepoOptions(command).action(async (options: SnapshotsOptions) => {
      const opened = await openRepository(ctx, options, 'none');
      try {
        const all = await listSnapshots(opened.repo, {
          ...(options.host === undefined ? {} : { host: options.host }),
          tags: options.tag.flatMap((t) => t.split(',')),
          paths: options.path,
          ...(options.latest === undefined ? {} : { latest: Number(options.latest) }),
        });
        if (options.json === true) {
          printJson(
            ctx,
            all.map(({ id, snapshot: s }) => ({ id, short_id: shortId(id), time: s.time, host: s.host, user: s.user, tags: s.tags, paths: s.paths, streams: s.streams, tree: s.tree, parent: s.parent ?? null, program: s.program, summary: s.summary })),
          );
          return;
        }
        const rows = [['ID', 'Time', 'Host', 'Tags', 'Size', 'Added', 'Paths and streams']];
        for (const { id, snapshot: s } of all) {
          rows.push([
            shortId(id),
            s.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
            s.host,
            s.tags.join(','),
            formatBytes(s.summary.bytes),
            formatBytes(s.summary.storedBytes),
            [...s.paths, ...s.streams.map((n) => `/${n}`)].join(' '),
          ]);
        }
        ctx.stdout.write(`${table(rows)}\n${all.length} snapshot${all.length === 1 ? '' : 's'}\n`);
      } finally {
        await opened.close();
      }
    });
  },
};
