import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandGroups, loadCommands } from '../../src/cli/commands/index.js';

test('each command group declares exactly the commands its modules register', async () => {
  const seen = new Set<string>();
  for (const group of commandGroups) {
    const names = (await group.load()).map((m) => m.name);
    assert.deepEqual([...names].sort(), [...group.names].sort());
    for (const n of names) {
      assert.ok(!seen.has(n), `${n} is declared twice`);
      seen.add(n);
    }
  }
});

test('a command name loads only its own group; anything else loads all', async () => {
  assert.deepEqual((await loadCommands('backup')).map((m) => m.name), ['backup']);
  assert.deepEqual((await loadCommands('snapshots')).map((m) => m.name), ['snapshots']);
  assert.equal((await loadCommands('--help')).length, commandGroups.flatMap((g) => g.names).length);
});

test('the package bin that `npx sluice` runs is executable after a build, and runs', async () => {
  // npm does not link a package's own bin, so `npx sluice` in a checkout executes the file as it is.
  const { readFile, stat } = await import('node:fs/promises');
  const { execFileSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { bin: { sluice: string }; version: string };
  const bin = join(process.cwd(), pkg.bin.sluice);
  assert.notEqual((await stat(bin)).mode & 0o111, 0, `${bin} is not executable: run npm run build`);
  assert.equal(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim(), pkg.version);
});
