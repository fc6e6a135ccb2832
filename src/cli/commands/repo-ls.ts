/** `sluice ls SNAPSHOT[:PATH]`: lists the entries of a snapshot (recursively). */
import type { Command } from 'commander';
import { listTree } from '../../jobs/repository/browse.js';
import { shortId } from '../../jobs/repository/ref.js';
import type { TreeNode } from '../../jobs/repository/types.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { addRepoOptions, openRepository, type RepoOptions } from '../repo-options.js';

interface LsOptions extends RepoOptions {
  long?: boolean;
  recursive: boolean;
  host?: string;
}

function modeString(node: TreeNode): string {
  const kind = node.type === 'dir' ? 'd' : node.type === 'symlink' ? 'l' : '-';
  let out = kind;
  for (let shift = 6; shift >= 0; shift -= 3) {
    const bits = (node.mode >> shift) & 7;
    out += (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (bits & 1 ? 'x' : '-');
  }
  return out;
}

function jsonNode(path: string, node: TreeNode): Record<string, unknown> {
  const base: Record<string, unknown> = { path: `/${path}`, name: node.name, type: node.type, mode: node.mode, mtime: new Date(node.mtime).toISOString() };
  if (node.uid !== undefined) base.uid = node.uid;
  if (node.gid !== undefined) base.gid = node.gid;
  if (node.type === 'file') {
    base.size = node.size;
    base.sha256 = node.sha256;
    if (node.stream !== undefined) base.stream = node.stream;
  }
  if (node.type === 'symlink') base.target = node.target;
  return base;
}

export const lsCommand: CommandModule = {
  name: 'ls',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('ls')
      .summary('list the files, directories and streams of a snapshot')
      .argument('<snapshot>', 'snapshot id prefix or "latest", optionally with :PATH (e.g. latest:/etc)')
      .argument('[path]', 'path inside the snapshot (instead of :PATH)')
      .option('-l, --long', 'show mode, size, time (and for streams, the command and its exit status)')
      .option('--no-recursive', 'list only the directory itself, not what is below it')
      .option('--host <name>', 'with "latest": the newest snapshot of this host')
      .option('--json', 'print one JSON object per line (NDJSON)');
    addRepoOptions(command).action(async (snapshot: string, path: string | undefined, options: LsOptions) => {
      const opened = await openRepository(ctx, options, 'none');
      try {
        const listing = await listTree(opened.repo, snapshot, { ...(path === undefined ? {} : { path }), ...(options.host === undefined ? {} : { host: options.host }), recursive: options.recursive });
        if (options.json === true) {
          const ref = listing.snapshot;
          ctx.stdout.write(`${JSON.stringify({ snapshot: ref.id, short_id: shortId(ref.id), time: ref.snapshot.time, path: `/${listing.path}` })}\n`);
        }
        for await (const { path: p, node: n } of listing.entries) {
          if (options.json === true) {
            ctx.stdout.write(`${JSON.stringify(jsonNode(p, n))}\n`);
          } else if (options.long === true) {
            const size = n.type === 'file' ? String(n.size) : '';
            const extra =
              n.type === 'symlink' ? ` -> ${n.target}` : n.type === 'file' && n.stream?.command !== undefined ? `  [${n.stream.command.join(' ')}; exit ${n.stream.exitCode ?? n.stream.signal}]` : '';
            ctx.stdout.write(`${modeString(n)} ${size.padStart(12)} ${new Date(n.mtime).toISOString().replace('T', ' ').slice(0, 19)} /${p}${extra}\n`);
          } else {
            ctx.stdout.write(`/${p}${n.type === 'dir' ? '/' : ''}\n`);
          }
        }
      } finally {
        await opened.close();
      }
    });
  },
};
