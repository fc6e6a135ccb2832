/** `sluice key list|add|passwd|remove`: manage the passwords (key files) of a repository. */
import type { Command } from 'commander';
import { addKey, changePassword, listKeys, removeKey } from '../../jobs/repository/keys.js';
import type { CommandModule } from '../command.js';
import type { CliContext } from '../context.js';
import { info } from '../log.js';
import { addRepoOptions, kdfParams, openRepository, printJson, readNewPassword, type RepoOptions } from '../repo-options.js';
import { table } from './repo-snapshots.js';

interface KeyOptions extends RepoOptions {
  newPasswordFile?: string;
  kdf?: string;
}

export const keyCommand: CommandModule = {
  name: 'key',
  register(program: Command, ctx: CliContext) {
    const key = program.command('key').summary('manage repository passwords (key files)');
    addRepoOptions(key.command('list').summary('list the key files').option('--json', 'print JSON')).action(async (options: KeyOptions) => {
      const opened = await openRepository(ctx, options, 'none');
      try {
        const keys = await listKeys(opened.repo);
        if (options.json === true) printJson(ctx, keys);
        else {
          const rows = [[' ', 'ID', 'User', 'Host', 'Created', 'KDF']];
          for (const k of keys) rows.push([k.current ? '*' : ' ', k.id.slice(0, 8), k.user, k.host, k.created, `scrypt N=${k.kdf.N} r=${k.kdf.r} p=${k.kdf.p}`]);
          ctx.stdout.write(`${table(rows)}\n`);
        }
      } finally {
        await opened.close();
      }
    });
    const withNew = (c: Command): Command =>
      addRepoOptions(
        c.option('--new-password-file <file>', 'read the new password from this file (default: $SLUICE_NEW_PASSWORD_FILE, or a prompt)').option('--kdf <params>', 'scrypt parameters for the new key file ($SLUICE_KDF)'),
      );
    withNew(key.command('add').summary('add a password (a new key file for the same master key)')).action(async (options: KeyOptions) => {
      const opened = await openRepository(ctx, options, 'none');
      try {
        const kdf = kdfParams(ctx, options.kdf);
        const id = await addKey(opened.repo, () => readNewPassword(ctx, options.newPasswordFile, 'no key was added'), kdf === undefined ? {} : { kdf });
        info(ctx, `added key ${id.slice(0, 8)}`);
      } finally {
        await opened.close();
      }
    });
    withNew(key.command('passwd').summary('change the password used to open the repository')).action(async (options: KeyOptions) => {
      const opened = await openRepository(ctx, options, 'none');
      try {
        const kdf = kdfParams(ctx, options.kdf);
        const { removed, added } = await changePassword(opened.repo, () => readNewPassword(ctx, options.newPasswordFile, 'the password was not changed'), kdf === undefined ? {} : { kdf });
        info(ctx, `replaced key ${removed.slice(0, 8)} with ${added.slice(0, 8)}`);
      } finally {
        await opened.close();
      }
    });
    addRepoOptions(key.command('remove').summary('remove a key file (not the one in use)').argument('<id>', 'key id prefix')).action(async (prefix: string, options: KeyOptions) => {
      const opened = await openRepository(ctx, options, 'none');
      try {
        const id = await removeKey(opened.repo, prefix);
        info(ctx, `removed key ${id.slice(0, 8)}`);
      } finally {
        await opened.close();
      }
    });
  },
};
