/**
 * `sluice cat SNAPSHOT:PATH`: a stream or file from a snapshot to stdout, every chunk authenticated and its
 * id checked, the length and SHA-256 checked at the end (exit status 4 on any mismatch).
 */
import type { Command } from 'commander';
import { catFile } from '../../jobs/repository/cat.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { addRepoOptions, openRepository, type RepoOptions } from '../repo-options.js';
import { showStreamProgress } from '../progress.js';
import { addStreamOutputOptions, type StreamOutputOptions, streamOutputFrom, writeChecksumFile } from '../stream-output.js';
import { parseCount } from '../units.js';
import { addPhysicalCatOptions, type PhysicalCatFlags, runPhysicalCat, wantsPhysicalCat } from './snapshot-physical.js';

interface CatOptions extends RepoOptions, StreamOutputOptions {
  verifyOnly?: boolean;
  concurrency: string;
  host?: string;
}

export const catCommand: CommandModule = {
  name: 'cat',
  register(program: Command, ctx: CliContext) {
    const command = program
      .command('cat')
      .summary('write a stream or file from a snapshot to stdout, verified')
      .description(
        'Write a named stream (or any file) of a snapshot to stdout. Every chunk is authenticated and checked\n' +
          'against its id before it is written; at the end the length and SHA-256 recorded at backup time are\n' +
          'checked. A mismatch ends with exit status 4: bytes already written cannot be taken back, so scripts\n' +
          'must check the exit status (set -o pipefail).\n\n' +
          'Example: sluice cat latest:db.sql | mysql',
      )
      .argument('<snapshot>', 'SNAPSHOT:PATH, e.g. latest:db.sql or 3f2a91c0:/etc/hosts')
      .argument('[path]', 'path inside the snapshot (instead of :PATH)')
      .option('--verify-only', 'read and verify everything, write nothing (a restore test)')
      .option('--concurrency <n>', 'chunks fetched and decrypted at once', '8')
      .option('--host <name>', 'with "latest": the newest snapshot of this host');
    addPhysicalCatOptions(command);
    addStreamOutputOptions(addRepoOptions(command)).action(async (snapshot: string, path: string | undefined, options: CatOptions & PhysicalCatFlags) => {
      if (wantsPhysicalCat(options)) return runPhysicalCat(ctx, snapshot, path, options);
      const concurrency = parseCount(options.concurrency, '--concurrency', 1, 256);
      const verifyOnly = options.verifyOnly === true;
      const output = verifyOnly ? undefined : streamOutputFrom(ctx, options);
      const opened = await openRepository(ctx, options, 'none');
      const progress = showStreamProgress(ctx, verifyOnly ? false : options.progress);
      let sent;
      try {
        sent = await catFile(opened.repo, snapshot, {
          ...output,
          ...(path === undefined ? {} : { path }),
          ...(options.host === undefined ? {} : { host: options.host }),
          concurrency,
          verifyOnly,
          signal: ctx.signal,
          onProgress: progress.onProgress,
        });
      } finally {
        progress.stop();
        await opened.close();
      }
      if (!verifyOnly) await writeChecksumFile(options, sent);
    });
  },
};
