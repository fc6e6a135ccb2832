/**
 * The CLI loads only the module of the command it runs (start-up), yet its help must stay complete:
 * `sluice --help` names every command and `sluice CMD --help` (and `sluice CMD SUB --help`) every option
 * and subcommand. The expected lists come from the command tree built in-process with every module loaded;
 * the help texts from the built CLI, which loads modules lazily.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Command } from 'commander';
import { commandGroups, loadCommands } from '../../src/cli/commands/index.js';
import type { CliContext } from '../../src/cli/context.js';
import { buildProgram } from '../../src/cli/program.js';
import { runSluice } from '../helpers/cli.js';

/** The command tree with every module registered, in this process. */
async function fullTree(): Promise<Command> {
  const ctx: CliContext = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {}, exitCode: 0, signal: new AbortController().signal };
  return buildProgram(ctx, await loadCommands('--help'));
}

/** Every command with its path of names (`['key', 'add']`), depth first. */
function commandsOf(parent: Command, path: string[] = []): { path: string[]; command: Command }[] {
  return parent.commands.flatMap((command) => [{ path: [...path, command.name()], command }, ...commandsOf(command, [...path, command.name()])]);
}

/** The words a help text must contain for `command`: each option's flags and each subcommand's name. */
function expectedWords(command: Command): string[] {
  return [...command.options.map((o) => o.flags), ...command.commands.map((c) => c.name())];
}

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('sluice --help lists every command, and CMD --help every option and subcommand', async () => {
  const program = await fullTree();
  const all = commandsOf(program);
  const names = program.commands.map((c) => c.name());
  assert.deepEqual([...names].sort(), commandGroups.flatMap((g) => g.names).sort(), 'the in-process tree has every command');
  assert.ok(all.some(({ path }) => path.length === 2), 'no subcommand seen: the tree walk is broken');

  const top = await runSluice(['--help']);
  assert.equal(top.status, 0, top.stderr);
  const topText = top.stdout.toString();
  for (const name of names) assert.match(topText, new RegExp(`^  ${name}\\b`, 'm'), `sluice --help does not list ${name}`);

  const queue = [...all];
  const check = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const { path, command } = next;
      const result = await runSluice([...path, '--help']);
      assert.equal(result.status, 0, `sluice ${path.join(' ')} --help: ${result.stderr}`);
      const text = result.stdout.toString();
      assert.match(text, new RegExp(`^Usage: sluice ${path.join(' ')}\\b`, 'm'), `sluice ${path.join(' ')} --help shows another command's help`);
      for (const word of expectedWords(command)) {
        assert.match(text, new RegExp(`(^|[\\s,])${escaped(word)}(?=[\\s,]|$)`, 'm'), `sluice ${path.join(' ')} --help does not list ${word}`);
      }
    }
  };
  await Promise.all([check(), check()]);
});
