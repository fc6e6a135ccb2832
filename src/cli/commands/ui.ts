/**
 * `sluice ui`: serves the web UI over a repository until interrupted. The URL with its token goes to
 * stderr only; the repository password is read as by every repository command, never by the browser.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { startUiServer } from '../../ui/index.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { warn } from '../log.js';
import { addRepoOptions, openRepository, readPassword, repoLocation, type RepoOptions } from '../repo-options.js';

interface UiOptions extends RepoOptions {
  listen: string;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim()) ?? /^()()(\d{1,5})$/.exec(text.trim());
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) throw new UsageError(`--listen: "${text}" is not HOST:PORT (e.g. 127.0.0.1:8765; port 0 picks a free one)`);
  return { host: m[1] ?? (m[2] === '' || m[2] === undefined ? '127.0.0.1' : m[2]), port };
}

export const uiCommand: CommandModule = {
  name: 'ui',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('ui')
      .summary('browse, search and download from the repository in a web browser')
      .description(
        'Serves a web page and its API on 127.0.0.1 (a free port unless --listen says otherwise) and prints\n' +
          'its URL, with the access token after #, on stderr. Every API request needs that token. Runs until\n' +
          'interrupted (Ctrl-C). Listening on another address makes the repository readable by anyone who\n' +
          'has the token and can reach it: there is no TLS.',
      )
      .option('--listen <host:port>', 'address to listen on', '127.0.0.1:0');
    addRepoOptions(command).action(async (options: UiOptions) => {
      const { host, port } = parseListen(options.listen);
      // asked once: the check job opens a second, uncached repository with the same password
      let password: Promise<string> | undefined;
      const askOnce = (): Promise<string> => (password ??= readPassword(ctx, options));
      const opened = await openRepository(ctx, options, 'none', { password: askOnce });
      try {
        const ui = await startUiServer({
          repo: opened.repo,
          openUncached: async () => (await openRepository(ctx, { ...options, cache: false }, 'none', { store: opened.repo.store, password: askOnce })).repo,
          location: repoLocation(ctx, options),
          host,
          port,
          onError: (message) => warn(ctx, message),
        });
        if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') warn(ctx, `listening on ${host}: anyone who can reach it and has the token can read the repository`);
        ctx.stderr.write(`sluice ui: ${ui.url}\n`);
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await ui.close();
      } finally {
        await opened.close();
      }
    });
  },
};
