/**
 * age: files sluice encrypts open with the stock `age` CLI and the CLI's files open with sluice, for
 * X25519 recipients and for passphrases (the CLI reads those from a terminal, so it runs under `script`);
 * wrong keys, flipped bits, truncation and trailing data are errors that name the file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExitCode, IntegrityError } from '../../src/errors.js';
import { AgeDecryptor } from '../../src/transform/age/decrypt.js';
import { createAgeEncryptor } from '../../src/transform/age/encrypt.js';
import { BlockPool } from '../../src/transform/pool/block-pool.js';
import { ok, run, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { pseudoRandomBytes } from '../helpers/tree.js';
import { chunks, collect, compressibleBytes, cutAt, sluiceError } from './helpers.js';

const CHUNK = 64 << 10;
const SEALED = CHUNK + 16;
const pool = new BlockPool({ threads: 2 });
const root = await mkdtemp(join(tmpdir(), 'sluice-age-'));
after(async () => {
  await pool.close();
  await rm(root, { recursive: true, force: true });
});

interface Key {
  identity: string;
  recipient: string;
  file: string;
}

async function keygen(dir: string, name: string): Promise<Key> {
  const file = join(dir, `${name}.txt`);
  ok(await run('age-keygen', ['-o', file]), 'age-keygen');
  const text = await readFile(file, 'utf8');
  return {
    file,
    identity: text.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1')) as string,
    recipient: (/public key: (age1[0-9a-z]+)/.exec(text) as RegExpExecArray)[1] as string,
  };
}

/** Runs an age command that asks for a passphrase on its terminal, typing `answers` into it. */
async function ageWithTty(dir: string, args: string, answers: string[]): Promise<void> {
  const feed = answers.map((a) => `sleep 0.5; printf '%s\\n' '${a}'`).join('; ');
  const script = `{ ${feed}; for i in $(seq 100); do [ -e ${dir}/.done ] && break; sleep 0.1; done; } | script -q -e -c "age ${args}; touch ${dir}/.done" /dev/null > ${dir}/tty.log`;
  ok(await sh(script, { timeoutMs: 60_000 }), `age ${args}`);
  await sh(`rm -f ${dir}/.done`);
}

const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 16 * CHUNK, 16 * CHUNK + 1, 40 * CHUNK + 333];

describe('X25519 recipients', () => {
  let dir: string;
  let alice: Key;
  let bob: Key;
  before(async () => {
    dir = root;
    alice = await keygen(dir, 'alice');
    bob = await keygen(dir, 'bob');
  });

  test('the age CLI opens what sluice writes, at every size around chunk and batch boundaries', async () => {
    const enc = createAgeEncryptor({ recipients: [alice.recipient, bob.recipient], pool });
    for (const size of SIZES) {
      const data = size % 2 === 0 ? compressibleBytes(size, size) : pseudoRandomBytes(size, size);
      const sealed = await collect(enc.encrypt(chunks(data, 5000)));
      await writeFile(join(dir, 'x.age'), sealed);
      for (const key of [alice, bob]) {
        const opened = ok(await run('age', ['-d', '-i', key.file, join(dir, 'x.age')]), `age -d (${size} bytes)`).stdout;
        assert.ok(opened.equals(data), `${size} bytes with ${key === alice ? 'alice' : 'bob'}'s key`);
      }
    }
  });

  test('sluice opens what the age CLI writes, at every size', async () => {
    const dec = new AgeDecryptor({ identities: [bob.identity], pool });
    for (const size of SIZES) {
      const data = pseudoRandomBytes(size, size + 7);
      await writeFile(join(dir, 'plain'), data);
      ok(await run('age', ['-r', alice.recipient, '-r', bob.recipient, '-o', join(dir, 'y.age'), join(dir, 'plain')]));
      const sealed = await readFile(join(dir, 'y.age'));
      assert.ok((await collect(dec.decrypt(chunks(sealed, 4099), 'y.age'))).equals(data), `${size} bytes`);
    }
  });

  test('files of one run share a header but each has its own nonce', async () => {
    const enc = createAgeEncryptor({ recipients: [alice.recipient], pool });
    const a = await collect(enc.encrypt(chunks(Buffer.from('same plaintext'))));
    const b = await collect(enc.encrypt(chunks(Buffer.from('same plaintext'))));
    const headerEnd = a.indexOf('\n---') + 1;
    const end = a.indexOf('\n', headerEnd) + 1;
    assert.ok(a.subarray(0, end).equals(b.subarray(0, end)), 'one header (one unwrap) for the whole run');
    assert.ok(!a.subarray(end, end + 16).equals(b.subarray(end, end + 16)), 'different nonces');
    assert.ok(!a.subarray(end + 16).equals(b.subarray(end + 16)), 'so different payloads');
  });

  test('a wrong identity is refused with exit status 12', async () => {
    const enc = createAgeEncryptor({ recipients: [alice.recipient], pool });
    const sealed = await collect(enc.encrypt(chunks(Buffer.from('secret'))));
    const dec = new AgeDecryptor({ identities: [bob.identity], pool });
    const err = await sluiceError(() => collect(dec.decrypt(chunks(sealed), 'db/t.ibd.zst.age')));
    assert.equal(err.code, 'E_WRONG_KEY');
    assert.equal(err.exitCode, ExitCode.wrongPassword);
    assert.equal(err.where.path, 'db/t.ibd.zst.age');
  });

  describe('damage', () => {
    let sealed: Buffer;
    let payloadStart: number;
    let dec: AgeDecryptor;
    const data = compressibleBytes(20 * CHUNK + 5000, 99);
    before(async () => {
      const enc = createAgeEncryptor({ recipients: [alice.recipient], pool });
      sealed = await collect(enc.encrypt(chunks(data)));
      payloadStart = sealed.indexOf('\n', sealed.indexOf('\n---') + 1) + 1 + 16;
      dec = new AgeDecryptor({ identities: [alice.identity], pool });
    });
    const open = (bytes: Uint8Array): Promise<Buffer> => collect(dec.decrypt(chunks(bytes, 10_000), 'x.age'));

    test('intact', async () => {
      assert.ok((await open(sealed)).equals(data));
    });

    test('a flipped bit in chunk 18 names the chunk and its offset', async () => {
      const bad = Buffer.from(sealed);
      const at = payloadStart + 17 * SEALED + 100;
      bad[at] = (bad[at] as number) ^ 0x01;
      const err = await sluiceError(() => open(bad));
      assert.ok(err instanceof IntegrityError);
      assert.equal(err.code, 'E_AGE_AUTH');
      assert.match(err.message, /chunk 18/);
      assert.equal(err.where.offset, payloadStart + 17 * SEALED);
      assert.equal(err.where.path, 'x.age');
    });

    test('a flipped bit in the header', async () => {
      const bad = Buffer.from(sealed);
      const macLine = bad.indexOf('\n---') + 6;
      bad[macLine] = bad[macLine] === 0x41 ? 0x42 : 0x41; // a different base64 letter in the MAC
      const err = await sluiceError(() => open(bad));
      assert.equal(err.exitCode, 4, 'a header MAC that does not match is an integrity failure');
      assert.equal(err.where.path, 'x.age');
    });

    test('cut at a chunk boundary (whole chunks missing)', async () => {
      const err = await sluiceError(() => open(sealed.subarray(0, payloadStart + 12 * SEALED)));
      assert.equal(err.code, 'E_AGE_AUTH');
      assert.match(err.message, /truncated/);
    });

    test('cut inside a chunk', async () => {
      const err = await sluiceError(() => open(sealed.subarray(0, sealed.length - 7)));
      assert.ok(err instanceof IntegrityError);
    });

    test('cut inside the header', async () => {
      const err = await sluiceError(() => open(sealed.subarray(0, 40)));
      assert.equal(err.code, 'E_TRUNCATED');
    });

    test('data appended after the last chunk', async () => {
      const err = await sluiceError(() => open(Buffer.concat([sealed, Buffer.alloc(SEALED)])));
      assert.ok(err instanceof IntegrityError);
    });

    test('not an age file, and an armored one', async () => {
      assert.equal((await sluiceError(() => open(Buffer.from('hello world, this is not age\n')))).code, 'E_AGE_MAGIC');
      assert.equal((await sluiceError(() => open(Buffer.from('-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n')))).code, 'E_AGE_ARMOR');
    });
  });
});

describe('passphrases (scrypt)', () => {
  test('the age CLI opens a file sluice encrypted with a passphrase', async (t) => {
    const dir = await tempDir(t);
    const data = compressibleBytes(3 * CHUNK + 17, 5);
    const enc = createAgeEncryptor({ passphrase: 'correct horse battery', pool });
    await writeFile(join(dir, 'p.age'), await collect(enc.encrypt(chunks(data))));
    await ageWithTty(dir, `-d -o ${dir}/p.out ${dir}/p.age`, ['correct horse battery']);
    assert.ok((await readFile(join(dir, 'p.out'))).equals(data));
  });

  test('sluice opens a file the age CLI encrypted with a passphrase; a wrong one is refused', async (t) => {
    const dir = await tempDir(t);
    const data = pseudoRandomBytes(2 * CHUNK + 3, 8);
    await writeFile(join(dir, 'plain'), data);
    await ageWithTty(dir, `-p -o ${dir}/q.age ${dir}/plain`, ['another secret', 'another secret']);
    const sealed = await readFile(join(dir, 'q.age'));
    assert.match(sealed.subarray(0, 60).toString('latin1'), /-> scrypt /);
    const good = new AgeDecryptor({ passphrases: ['another secret'], pool });
    assert.ok((await collect(good.decrypt(chunks(sealed), 'q.age'))).equals(data));
    const bad = new AgeDecryptor({ passphrases: ['wrong secret'], pool });
    const err = await sluiceError(() => collect(bad.decrypt(chunks(sealed), 'q.age')));
    assert.equal(err.code, 'E_WRONG_KEY');
  });

  test('with a low work factor, round trip and identities cannot open a passphrase file', async () => {
    const enc = createAgeEncryptor({ passphrase: 'pw', scryptLogN: 10, pool });
    const sealed = await collect(enc.encrypt(chunks(Buffer.from('tiny'))));
    assert.equal((await collect(new AgeDecryptor({ passphrases: ['pw'], pool }).decrypt(chunks(sealed), 'a.age'))).toString(), 'tiny');
    const key = await keygen(root, 'k');
    const err = await sluiceError(() => collect(new AgeDecryptor({ identities: [key.identity], pool }).decrypt(chunks(sealed), 'a.age')));
    assert.equal(err.code, 'E_WRONG_KEY');
  });
});

test('the header is found wherever the input is split, including inside its MAC line', async () => {
  const encryptor = createAgeEncryptor({ passphrase: 'split', scryptLogN: 10, pool });
  const decryptor = new AgeDecryptor({ passphrases: ['split'], pool });
  const data = pseudoRandomBytes(100, 5);
  const sealed = await collect(encryptor.encrypt(cutAt(data, [])));
  const failed: number[] = [];
  for (let cut = 1; cut < sealed.length; cut++) {
    const back = await collect(decryptor.decrypt(cutAt(sealed, [cut]), 'f.age')).catch(() => undefined);
    if (back === undefined || !back.equals(data)) failed.push(cut);
  }
  assert.deepEqual(failed, [], 'input split at these offsets did not decrypt');
});
