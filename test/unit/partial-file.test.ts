import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { PartialFile, partialPathFor, writeFileAtomic } from '../../src/files/partial-file.js';
import { tempDir } from '../helpers/tmp.js';

test('partial names: .NAME.sluice-partial-XXXXXXXXXXXX beside the file, or in the given directory', () => {
  assert.match(partialPathFor('/a/b/data.ibd'), /^\/a\/b\/\.data\.ibd\.sluice-partial-[0-9a-f]{12}$/);
  assert.match(partialPathFor('/a/b/data.ibd', '/repo/tmp'), /^\/repo\/tmp\/\.data\.ibd\.sluice-partial-[0-9a-f]{12}$/);
  const long = partialPathFor(`/x/${'n'.repeat(300)}`);
  assert.equal(long.length, '/x/.'.length + 64 + '.sluice-partial-'.length + 12, 'a long name is cut to 64 characters');
  assert.notEqual(partialPathFor('/a/f'), partialPathFor('/a/f'));
});

test('writeFileAtomic replaces the file whole and leaves no partial file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'f');
  await writeFile(path, 'old');
  await writeFileAtomic(path, [Buffer.from('new '), Buffer.from('content')]);
  assert.equal(await readFile(path, 'utf8'), 'new content');
  assert.deepEqual(await readdir(dir), ['f']);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
});

test('a failed publish keeps the old file and removes the partial file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'f');
  await writeFile(path, 'old');
  await assert.rejects(
    writeFileAtomic(path, Buffer.from('new'), {
      publish: async () => {
        throw new Error('no room');
      },
    }),
    /no room/,
  );
  assert.equal(await readFile(path, 'utf8'), 'old');
  assert.deepEqual(await readdir(dir), ['f']);
});

test('an aborted partial file leaves nothing; prepare runs on the partial file before it is published', async (t) => {
  const dir = await tempDir(t);
  const aborted = await PartialFile.create(join(dir, 'a'));
  await aborted.handle.write('x');
  assert.deepEqual((await readdir(dir)).length, 1);
  await aborted.abort();
  assert.deepEqual(await readdir(dir), []);

  const kept = await PartialFile.create(join(dir, 'b'), { sync: false });
  await kept.handle.write('y');
  let seen: string | undefined;
  await kept.commit(join(dir, 'b'), {
    prepare: async (p) => {
      seen = p;
      await writeFile(p, 'prepared');
    },
  });
  assert.equal(seen, kept.path);
  assert.equal(await readFile(join(dir, 'b'), 'utf8'), 'prepared');
  await assert.rejects(kept.commit(join(dir, 'b')), /once/);
});
