/** The pulled tar reader the PostgreSQL snapshots use: GNU tar's output read back, and a cut tar refused. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTarEntries } from '../../src/container/tar/reader.js';
import { ok, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

async function* inPieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function readAll(bytes: Uint8Array, piece: number): Promise<Map<string, string | Buffer>> {
  const out = new Map<string, string | Buffer>();
  for await (const e of readTarEntries(inPieces(bytes, piece))) {
    if (e.kind === 'file') {
      const parts: Buffer[] = [];
      for await (const p of e.content) parts.push(Buffer.from(p));
      out.set(e.path, Buffer.concat(parts));
    } else out.set(e.path, e.kind === 'dir' ? 'dir' : `-> ${e.target}`);
  }
  return out;
}

test('readTarEntries: files, directories and symlinks of a GNU tar, whatever the read size; a cut tar is an error', async (t) => {
  const dir = await tempDir(t, 'sluice-tar-');
  const src = join(dir, 'src');
  await mkdir(join(src, 'base', '1'), { recursive: true });
  await mkdir(join(src, 'pg_wal', 'archive_status'), { recursive: true });
  const big = randomBytes(3 << 20);
  await writeFile(join(src, 'base', '1', '1259'), big);
  await writeFile(join(src, 'PG_VERSION'), '15\n');
  await writeFile(join(src, 'empty'), '');
  await symlink('/elsewhere', join(src, 'link'));
  ok(await sh('tar -C src -cf all.tar .', { cwd: dir }));
  const bytes = await readFile(join(dir, 'all.tar'));
  for (const piece of [512, 65536, 1 << 22]) {
    const got = await readAll(bytes, piece);
    assert.deepEqual(got.get('base/1/1259'), big, `a 3 MiB file read in ${piece}-byte pieces`);
    assert.equal(String(got.get('PG_VERSION')), '15\n');
    assert.equal(got.get('empty')?.length, 0);
    assert.equal(got.get('pg_wal/archive_status'), 'dir', 'an empty directory is an entry');
    assert.equal(got.get('link'), '-> /elsewhere');
  }
  await assert.rejects(readAll(bytes.subarray(0, 2 << 20), 65536), /E_TAR|ends|EOF|truncated/i);
});
