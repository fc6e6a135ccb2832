/** The snapshot filters `find` and `history` share: --snapshot, --tag, --host, --newer, --older. */
import type { Command } from 'commander';
import { type FindMatch, parseTimeBound, type SnapshotQuery } from '../jobs/repository/query.js';
import { shortId } from '../jobs/repository/ref.js';

export interface SnapshotQueryOptions {
  snapshot: string[];
  tag: string[];
  host?: string;
  newer?: string;
  older?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addSnapshotQueryOptions(command: Command): Command {
  return command
    .option('-s, --snapshot <id>', 'only this snapshot (id prefix; repeatable)', collect, [])
    .option('--tag <tag>', 'only snapshots with this tag (repeatable: all must match)', collect, [])
    .option('--host <name>', 'only snapshots of this host')
    .option('--newer <when>', 'only snapshots taken since then: an age (7d, 12h, 2w) or an ISO date')
    .option('--older <when>', 'only snapshots taken before then: an age or an ISO date');
}

export function snapshotQuery(options: SnapshotQueryOptions, now: Date): SnapshotQuery {
  return {
    snapshots: options.snapshot,
    tags: options.tag,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.newer === undefined ? {} : { newer: parseTimeBound(options.newer, '--newer', now) }),
    ...(options.older === undefined ? {} : { older: parseTimeBound(options.older, '--older', now) }),
  };
}

/** One line of text output: short id, time, kind, size, path. */
export function matchLine(m: Pick<FindMatch, 'snapshot' | 'path' | 'kind' | 'node'>, mark = ''): string {
  const size = m.node.type === 'file' ? String(m.node.size) : '';
  const time = m.snapshot.snapshot.time.replace('T', ' ').slice(0, 19);
  const suffix = m.node.type === 'dir' ? '/' : m.node.type === 'symlink' ? ` -> ${m.node.target}` : '';
  return `${shortId(m.snapshot.id)}  ${time}  ${mark}${m.kind.padEnd(7)} ${size.padStart(12)}  ${m.path}${suffix}\n`;
}
