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
  assert.ok((await loadCommands('snapshots')).some((m) => m.name === 'restore'));
  assert.equal((await loadCommands('--help')).length, commandGroups.flatMap((g) => g.names).length);
});
