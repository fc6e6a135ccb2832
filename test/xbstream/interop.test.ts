/** Round trips through the real peers: MariaDB's mbstream (both directions) and GNU tar. */
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree, makeTree, pseudoRandomBytes } from '../helpers/tree.js';

/** mbstream creates only one directory level per file: keep trees shallow, files before subdirectories. */
async function shallowTree(root: string): Promise<void> {
  await makeTree(root, {
    'ibdata1': pseudoRandomBytes(11 * 1024 * 1024 + 17, 1), // crosses the 10 MiB chunk boundary
    'backup-my.cnf': '[mysqld]\ninnodb_page_size=16384\n',
    'empty.file': '',
    'shop/orders.ibd': pseudoRandomBytes(300_000, 2),
    'shop/customers.ibd': pseudoRandomBytes(70_000, 3),
    'shop/db.opt': 'default-character-set=utf8mb4\n',
    'mysql/user.MAD': pseudoRandomBytes(8192, 4),
    'mysql/user.MAI': '',
    'ünïcødé/名前.frm': 'unicode names survive',
  });
}

test('sluice backup --stream | mbstream -x gives the same tree, serial and with --parallel=3', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await shallowTree(src);
  const expected = await describeTree(src);
  for (const parallel of ['1', '3']) {
    const out = join(dir, `out${parallel}`);
    await mkdir(out);
    // mbstream exits 0 after errors it only prints: compare the trees, never trust its status.
    await sh(`$SLUICE backup --stream --parallel=${parallel} ${src} | mbstream -x -C ${out}`);
    assert.deepEqual(await describeTree(out), expected, `--parallel=${parallel}`);
  }
});

test('mbstream -c | sluice xbstream -x gives the same tree', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await shallowTree(src);
  const out = join(dir, 'out');
  const files = (await describeTree(src)).filter((i) => i.kind === 'file').map((i) => `'${i.path}'`).join(' ');
  ok(await sh(`cd ${src} && mbstream -c ${files} | $SLUICE xbstream -x -C ${out}`), 'mbstream -c | sluice -x');
  assert.deepEqual(await describeTree(out), await describeTree(src));
});

test('sluice xbstream -c is byte-identical to mbstream -c for the same files', async (t) => {
  const dir = await tempDir(t);
  await shallowTree(dir);
  const files = "ibdata1 empty.file shop/orders.ibd 'ünïcødé/名前.frm'";
  const ours = ok(await sh(`cd ${dir} && $SLUICE xbstream -c ${files} | sha256sum`)).stdout.toString();
  const theirs = ok(await sh(`cd ${dir} && mbstream -c ${files} | sha256sum`)).stdout.toString();
  assert.equal(ours, theirs);
});

test('sluice xbstream -c of a directory | mbstream -x', async (t) => {
  const dir = await tempDir(t);
  await shallowTree(join(dir, 'src'));
  const out = join(dir, 'out');
  await mkdir(out);
  await sh(`cd ${dir}/src && $SLUICE xbstream -c shop mysql | mbstream -x -C ${out}`);
  const expected = (await describeTree(join(dir, 'src'))).filter((i) => /^(shop|mysql)(\/|$)/.test(i.path));
  assert.deepEqual(await describeTree(out), expected);
});

test('sluice xbstream -x creates parents at any depth (mbstream cannot)', async (t) => {
  const dir = await tempDir(t);
  await makeTree(join(dir, 'src'), { 'a/b/c/d/deep.txt': 'deep', 'x/y/z': pseudoRandomBytes(5000, 9) });
  ok(await sh(`$SLUICE backup --stream ${dir}/src | $SLUICE xbstream -x -C ${dir}/out`));
  const files = (await describeTree(join(dir, 'out'))).filter((i) => i.kind === 'file');
  assert.deepEqual(files, (await describeTree(join(dir, 'src'))).filter((i) => i.kind === 'file'));
});

test('sluice backup --stream=tar | tar -x keeps files, symlinks, empty dirs, modes, mtimes, long and unicode names', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  const longName = `${'long-component-'.repeat(8)}end.txt`; // 127 bytes: beyond ustar's 100
  const deepPath = `${'deep-directory-name/'.repeat(14)}file.bin`; // beyond ustar's 255 prefix+name
  await makeTree(src, {
    'a.txt': 'alpha',
    'bin/run.sh': '#!/bin/sh\necho hi\n',
    'empty.file': '',
    'empty-dir': { dir: true },
    'nested/empty/dir': { dir: true },
    'link-to-a': { symlink: 'a.txt' },
    'dangling': { symlink: 'does/not/exist' },
    [longName]: 'long name',
    [deepPath]: pseudoRandomBytes(2000, 5),
    'ünïcødé/名前.txt': 'unicode',
    'big.bin': pseudoRandomBytes(3 * 1024 * 1024 + 5, 6),
  });
  await chmod(join(src, 'bin/run.sh'), 0o750);
  const when = new Date('2021-06-01T12:00:00Z');
  await utimes(join(src, 'a.txt'), when, when);
  const out = join(dir, 'out');
  await mkdir(out);
  ok(await sh(`$SLUICE backup --stream=tar ${src} | tar -xf - -C ${out}`), 'sluice | tar -x');
  assert.deepEqual(await describeTree(out), await describeTree(src));
  assert.equal((await lstat(join(out, 'bin/run.sh'))).mode & 0o777, 0o750);
  assert.equal((await lstat(join(out, 'a.txt'))).mtime.toISOString(), when.toISOString());
  const listing = ok(await sh(`$SLUICE backup --stream tar ${src} | tar -tvf -`)).stdout.toString();
  assert.match(listing, /link-to-a -> a\.txt/);
  assert.ok(listing.includes(deepPath), 'tar lists the long path');
});

test('tar headers for files beyond 8 GiB (past ustar) are read by GNU tar with the right size', async () => {
  const size = 9 * 1024 ** 3 + 123;
  const { writeTar } = await import('../../src/container/tar/writer.js');
  const { toSafePath } = await import('../../src/entry.js');
  async function* entries() {
    yield {
      kind: 'file' as const,
      path: toSafePath('huge/ibdata1'),
      mode: 0o640,
      mtimeMs: Date.parse('2024-01-02T03:04:05Z'),
      size,
      content: (async function* () {
        for (;;) yield Buffer.alloc(1 << 20);
      })(),
    };
  }
  // Only the start of the archive is needed: GNU tar lists the member before it finds the input short.
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for await (const part of writeTar(entries(), { spoolDirectory: '/tmp' })) {
    parts.push(part);
    bytes += part.length;
    if (bytes > 4 << 20) break;
  }
  const { run } = await import('../helpers/cli.js');
  const listing = await run('tar', ['-tvf', '-'], { input: Buffer.concat(parts) });
  assert.match(listing.stdout.toString(), new RegExp(`-rw-r-----\\s+\\S+\\s+${size}\\s+2024-01-02 \\d\\d:\\d\\d huge/ibdata1`));
  assert.match(listing.stderr, /Unexpected EOF/);
});
