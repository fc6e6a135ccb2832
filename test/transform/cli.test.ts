/**
 * End to end through the CLI: backup --compress/--encrypt into xbstream and tar, extraction with
 * --decompress/--decrypt, the stock zstd/lz4/age/mbstream/tar reading our output, verify reporting and
 * checking encodings, the decompress/decrypt commands in place, and the errors users will meet.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ok, run, runSluice, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree, makeTree, pseudoRandomBytes } from '../helpers/tree.js';
import { compressibleBytes } from './helpers.js';
import { xbcryptFile } from './xbcrypt-builder.js';

/** A small tree with files around the 4 MiB frame size, an empty file, a subdirectory. */
async function sourceTree(root: string): Promise<void> {
  await makeTree(root, {
    'ibdata1': Buffer.concat([compressibleBytes(4 << 20, 1), pseudoRandomBytes(300_000, 2)]),
    'db/t1.ibd': compressibleBytes(700_000, 3),
    'db/t1.frm': Buffer.from('frm bytes\n'),
    'db/empty.MYD': Buffer.alloc(0),
    'db/random.bin': pseudoRandomBytes(150_000, 4),
    'backup-my.cnf': Buffer.from('[mysqld]\ninnodb_page_size=16384\n'),
  });
}

const root = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
after(() => rm(root, { recursive: true, force: true }));
const src = join(root, 'src');
let keyFile: string;
let recipient: string;
before(async () => {
  await sourceTree(src);
  keyFile = join(root, 'key.txt');
  ok(await run('age-keygen', ['-o', keyFile]));
  recipient = (/public key: (age1[0-9a-z]+)/.exec(await readFile(keyFile, 'utf8')) as RegExpExecArray)[1] as string;
  await writeFile(join(root, 'pw'), 'a long passphrase\n');
});

describe('backup --compress | xbstream -x --decompress', () => {
  test('zstd with two threads round-trips the tree', async (t) => {
    const out = await tempDir(t);
    ok(await sh(`$SLUICE backup --stream --compress --compress-threads=2 ${src} | $SLUICE xbstream -x --decompress --decompress-threads=2 -C ${out}`));
    assert.deepEqual(await describeTree(out), await describeTree(src));
  });

  test('lz4 with --parallel=2: each file is .lz4 that lz4 -d opens', async (t) => {
    const out = await tempDir(t);
    ok(await sh(`$SLUICE backup --stream --compress=lz4 --parallel=2 ${src} | $SLUICE xbstream -x -C ${out}`));
    const names = (await describeTree(out)).filter((i) => i.kind === 'file').map((i) => i.path);
    assert.deepEqual(names, ['backup-my.cnf.lz4', 'db/empty.MYD.lz4', 'db/random.bin.lz4', 'db/t1.frm.lz4', 'db/t1.ibd.lz4', 'ibdata1.lz4']);
    for (const name of names) {
      const plain = ok(await sh(`lz4 -q -d -c ${join(out, name)}`)).stdout;
      assert.ok(plain.equals(await readFile(join(src, name.slice(0, -4)))), name);
    }
  });

  test('zstd level 3: mbstream extracts the stream and zstd -d opens every file', async (t) => {
    const out = await tempDir(t);
    ok(await sh(`$SLUICE backup --stream --compress --compress-zstd-level=3 ${src} > ${out}/b.xbs && mkdir ${out}/x && mbstream -x -C ${out}/x < ${out}/b.xbs`));
    for (const name of ['ibdata1', 'db/t1.ibd', 'db/empty.MYD']) {
      const plain = ok(await sh(`zstd -q -d -c ${join(out, 'x', `${name}.zst`)}`)).stdout;
      assert.ok(plain.equals(await readFile(join(src, name))), name);
    }
  });

  test('a smaller --compress-chunk-size makes more frames, still one standard file', async (t) => {
    const out = await tempDir(t);
    ok(await sh(`$SLUICE backup --stream --compress --compress-chunk-size=64K ${src} | $SLUICE xbstream -x -C ${out}`));
    const zst = await readFile(join(out, 'db/t1.ibd.zst'));
    const frames = zst.toString('latin1').split('\x28\xb5\x2f\xfd').length - 1;
    assert.ok(frames >= 11, `${frames} frames for 700 000 bytes in 64 KiB blocks`);
    assert.ok(ok(await sh(`zstd -q -d -c ${join(out, 'db/t1.ibd.zst')}`)).stdout.equals(await readFile(join(src, 'db/t1.ibd'))));
  });
});

describe('backup --encrypt', () => {
  test('recipients: xbstream -x --decrypt --decompress restores the tree; age -d | zstd -d opens one file', async (t) => {
    const out = await tempDir(t);
    ok(await sh(`$SLUICE backup --stream --compress --encrypt --recipient ${recipient} --encrypt-threads=2 ${src} > ${out}/b.xbs`));
    await mkdir(join(out, 'plain'));
    ok(await sh(`$SLUICE xbstream -x --decrypt --decompress --identity ${keyFile} -C ${out}/plain < ${out}/b.xbs`));
    assert.deepEqual(await describeTree(join(out, 'plain')), await describeTree(src));
    await mkdir(join(out, 'raw'));
    ok(await sh(`$SLUICE xbstream -x -C ${out}/raw < ${out}/b.xbs`));
    assert.ok((await readdir(join(out, 'raw', 'db'))).includes('t1.ibd.zst.age'));
    const stock = ok(await sh(`age -d -i ${keyFile} ${out}/raw/db/t1.ibd.zst.age | zstd -q -d`)).stdout;
    assert.ok(stock.equals(await readFile(join(src, 'db/t1.ibd'))));
  });

  test('passphrase, tar stream: GNU tar extracts, sluice decrypt --decompress --remove-original restores', async (t) => {
    const out = await tempDir(t);
    ok(await sh(`$SLUICE backup --stream=tar --compress --encrypt --passphrase-file ${root}/pw ${src} | tar -x -C ${out}`));
    assert.ok((await readdir(out)).includes('ibdata1.zst.age'));
    ok(await runSluice(['decrypt', out, '--passphrase-file', join(root, 'pw'), '--decompress', '--remove-original', '--parallel=2']));
    assert.deepEqual(await describeTree(out), await describeTree(src));
  });

  test('a wrong identity fails with status 12 and names the file; nothing is left behind', async (t) => {
    const out = await tempDir(t);
    const other = join(out, 'other.txt');
    ok(await run('age-keygen', ['-o', other]));
    ok(await sh(`$SLUICE backup --stream --encrypt --recipient ${recipient} ${src} > ${out}/b.xbs`));
    await mkdir(join(out, 'x'));
    const r = await sh(`$SLUICE xbstream -x --decrypt --identity ${other} -C ${out}/x < ${out}/b.xbs`);
    assert.equal(r.status, 12, r.stderr);
    assert.match(r.stderr, /\.age/);
    assert.deepEqual((await describeTree(join(out, 'x'))).filter((i) => i.kind === 'file'), []);
  });
});

describe('verify', () => {
  test('reports encodings, checks contents with keys, and catches a damaged file inside a valid stream', async (t) => {
    const out = await tempDir(t);
    ok(await sh(`$SLUICE backup --stream --compress --encrypt --recipient ${recipient} ${src} > ${out}/b.xbs`));
    const plainReport = JSON.parse(ok(await runSluice(['verify', '--json', join(out, 'b.xbs')])).stdout.toString()) as {
      files: { path: string; encoding?: string[]; contentsChecked?: boolean }[];
    };
    const t1 = plainReport.files.find((f) => f.path === 'db/t1.ibd.zst.age');
    assert.deepEqual(t1?.encoding, ['age', 'zstd']);
    assert.equal(t1?.contentsChecked, false);

    const keyed = JSON.parse(
      ok(await runSluice(['verify', '--json', '--decrypt', '--decompress', '--identity', keyFile, join(out, 'b.xbs')])).stdout.toString(),
    ) as { files: { path: string; sha256: string; decodedFrom?: string; contentsChecked?: boolean }[] };
    const expected = new Map((await describeTree(src)).filter((i) => i.kind === 'file').map((i) => [i.path, i.sha256]));
    assert.equal(keyed.files.length, expected.size);
    for (const f of keyed.files) {
      assert.equal(f.sha256, expected.get(f.path), f.path);
      assert.equal(f.contentsChecked, true);
      assert.equal(f.decodedFrom, `${f.path}.zst.age`);
    }

    // flip a bit inside one encrypted file, then repack: the container is valid, the file is not
    await mkdir(join(out, 'x'));
    ok(await sh(`$SLUICE xbstream -x -C ${out}/x < ${out}/b.xbs`));
    const victim = join(out, 'x', 'db', 't1.ibd.zst.age');
    const bytes = await readFile(victim);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 0x01;
    await writeFile(victim, bytes);
    ok(await sh(`cd ${out}/x && $SLUICE xbstream -c backup-my.cnf.zst.age db ibdata1.zst.age > ${out}/bad.xbs`));
    ok(await runSluice(['verify', join(out, 'bad.xbs')]), 'without keys the stream itself is fine');
    const r = await runSluice(['verify', '--decrypt', '--identity', keyFile, join(out, 'bad.xbs')]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /db\/t1\.ibd\.zst\.age/);
    assert.match(r.stderr, /authentication/);
  });
});

describe('decompress and decrypt in place', () => {
  test('decompress keeps originals, modes and mtimes; refuses to overwrite without --force', async (t) => {
    const out = await tempDir(t);
    ok(await sh(`$SLUICE backup --stream --compress ${src} | $SLUICE xbstream -x -C ${out}`));
    const zst = join(out, 'db', 't1.ibd.zst');
    await chmod(zst, 0o640);
    await utimes(zst, new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'));
    await writeFile(join(out, 'notes.txt'), 'left alone');
    const r = ok(await runSluice(['decompress', out, '--json', '--parallel=3']));
    const report = JSON.parse(r.stdout.toString()) as { files: { path: string; output: string }[] };
    assert.equal(report.files.length, 6);
    const st = await stat(join(out, 'db', 't1.ibd'));
    assert.equal(st.mode & 0o777, 0o640);
    assert.equal(st.mtime.toISOString(), '2024-01-02T03:04:05.000Z');
    assert.ok((await readFile(join(out, 'db', 't1.ibd'))).equals(await readFile(join(src, 'db', 't1.ibd'))));
    assert.ok((await readdir(join(out, 'db'))).includes('t1.ibd.zst'), 'originals stay by default');
    assert.equal(await readFile(join(out, 'notes.txt'), 'utf8'), 'left alone');

    const again = await runSluice(['decompress', out]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already exists/);
    ok(await runSluice(['decompress', out, '--force', '--remove-original']));
    const after = await describeTree(out, { skip: (p) => p === 'notes.txt' });
    assert.deepEqual(after, await describeTree(src));
  });

  test('a damaged file stops the run: status 4, its original kept, no partial or temporary file', async (t) => {
    const out = await tempDir(t);
    ok(await sh(`$SLUICE backup --stream --compress ${src} | $SLUICE xbstream -x -C ${out}`));
    const victim = join(out, 'ibdata1.zst');
    const bytes = await readFile(victim);
    bytes[200_000] = (bytes[200_000] as number) ^ 0xff;
    await writeFile(victim, bytes);
    const r = await runSluice(['decompress', victim, '--remove-original']);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /ibdata1\.zst/);
    assert.match(r.stderr, /offset/);
    const names = await readdir(out);
    assert.ok(names.includes('ibdata1.zst'));
    assert.ok(!names.includes('ibdata1'));
    assert.ok(!names.some((n) => n.endsWith('.tmp')));
  });

  test('a file with a suffix that is not compressed data, and a file with no known suffix', async (t) => {
    const out = await tempDir(t);
    await writeFile(join(out, 'fake.zst'), 'this is not zstd');
    await writeFile(join(out, 'plain.txt'), 'hello');
    const fake = await runSluice(['decompress', join(out, 'fake.zst')]);
    assert.notEqual(fake.status, 0);
    assert.match(fake.stderr, /fake\.zst.*not zstd|not zstd.*fake\.zst/);
    assert.ok((await readdir(out)).includes('fake.zst'));
    const plain = await runSluice(['decompress', join(out, 'plain.txt')]);
    assert.equal(plain.status, 2);
    assert.match(plain.stderr, /plain\.txt/);
    // in a directory, encrypted files are left for decrypt, with a warning
    await mkdir(join(out, 'tree'));
    await writeFile(join(out, 'tree', 'x.zst.age'), 'age-encryption.org/v1\n');
    const dirRun = ok(await runSluice(['decompress', join(out, 'tree')]));
    assert.match(dirRun.stderr, /x\.zst\.age/);
    assert.match(dirRun.stderr, /sluice decrypt/);
    assert.deepEqual(await readdir(join(out, 'tree')), ['x.zst.age']);
  });

  test('decrypt Percona .xbcrypt files with a raw key file, then decompress them', async (t) => {
    const out = await tempDir(t);
    const key = randomBytes(32);
    await writeFile(join(out, 'k'), key);
    const data = compressibleBytes(300_000, 9);
    await writeFile(join(out, 'a.ibd.xbcrypt'), xbcryptFile(3, key, data));
    const zst = ok(await run('zstd', ['-q', '-c'], { input: data })).stdout;
    await writeFile(join(out, 'b.ibd.zst.xbcrypt'), xbcryptFile(3, key, zst));
    // inside a stream first (xbstream -x --decrypt=AES256 --decompress, as with Percona's xbstream)
    await mkdir(join(out, 'x'));
    ok(await sh(`cd ${out} && $SLUICE xbstream -c a.ibd.xbcrypt b.ibd.zst.xbcrypt | $SLUICE xbstream -x --decrypt=AES256 --encrypt-key-file k --decompress -C x`));
    assert.ok((await readFile(join(out, 'x', 'a.ibd'))).equals(data));
    assert.ok((await readFile(join(out, 'x', 'b.ibd'))).equals(data));
    const r = ok(await runSluice(['decrypt', out, '--encrypt-key-file', join(out, 'k'), '--decompress']));
    assert.match(r.stderr, /not authenticated/);
    assert.ok((await readFile(join(out, 'a.ibd'))).equals(data));
    assert.ok((await readFile(join(out, 'b.ibd'))).equals(data));

    await writeFile(join(out, 'k2'), Buffer.concat([key, Buffer.from('\n')]));
    const nl = await runSluice(['decrypt', out, '--encrypt-key-file', join(out, 'k2'), '--force']);
    assert.equal(nl.status, 2);
    assert.match(nl.stderr, /newline/);
  });
});

describe('usage errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['--encrypt without a key', ['backup', '--stream', '--encrypt', '.'], /--recipient/],
    ['--encrypt=AES256 (xbcrypt is read only)', ['backup', '--stream', '--encrypt=AES256', '--encrypt-key-file', 'k', '.'], /age/],
    ['--compress=quicklz', ['backup', '--stream', '--compress=quicklz', '.'], /quicklz/],
    ['a recipient without --encrypt', ['backup', '--stream', '--recipient', 'age1xyz', '.'], /--encrypt/],
    ['a malformed recipient', ['backup', '--stream', '--encrypt', '--recipient', 'age1notakey', '.'], /recipient/],
    ['a zstd level out of range', ['backup', '--stream', '--compress', '--compress-zstd-level=40', '.'], /level/],
    ['--decrypt without keys', ['xbstream', '-x', '--decrypt'], /--identity/],
    ['a key without --decrypt', ['verify', '--identity', 'k'], /--decrypt/],
    ['decrypt without keys', ['decrypt', '.'], /--identity/],
  ];
  for (const [label, args, pattern] of cases) {
    test(label, async (t) => {
      const dir = await tempDir(t);
      await writeFile(join(dir, 'k'), 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n');
      const r = await runSluice(args, { cwd: dir, input: '' });
      assert.equal(r.status, 2, `${label}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    });
  }
});
