/** The reader against hand-built streams, replayed whole, byte by byte and split at every offset. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readXbstream } from '../../src/container/xbstream/reader.js';
import { writeXbstream } from '../../src/container/xbstream/writer.js';
import { type Entry, toSafePath } from '../../src/entry.js';
import {
  eofChunk,
  payloadChunk,
  removeChunk,
  renameChunk,
  seekChunk,
  sparseChunk,
} from '../helpers/xbstream-builder.js';

/** What an extractor would end with: path → content (holes as zeros), plus the D/R operations. */
async function replay(pieces: Uint8Array[]): Promise<string[]> {
  async function* source(): AsyncGenerator<Uint8Array> {
    yield* pieces;
  }
  const files = new Map<string, Buffer>();
  const log: string[] = [];
  for await (const e of readXbstream(source(), { maxEventBytes: 7 })) {
    if (e.type === 'data') {
      const cur = files.get(e.path) ?? Buffer.alloc(0);
      const end = Math.max(cur.length, e.offset + e.data.length);
      const next = Buffer.alloc(end);
      cur.copy(next);
      Buffer.from(e.data).copy(next, e.offset);
      files.set(e.path, next);
    } else if (e.type === 'eof') {
      log.push(`file ${e.path} = ${(files.get(e.path) ?? Buffer.alloc(0)).toString('hex')}`);
      files.delete(e.path);
    } else if (e.type === 'remove') log.push(`remove ${e.path}`);
    else if (e.type === 'rename') log.push(`rename ${e.path} ${e.to}`);
    else if (e.type === 'seek') log.push(`seek ${e.path} ${e.offset}`);
    else log.push(`skipped ${e.path}`);
  }
  return log;
}

function splits(stream: Buffer): Uint8Array[][] {
  const ways: Uint8Array[][] = [[stream], [...stream].map((b) => Uint8Array.of(b))];
  for (let at = 1; at < stream.length; at++) ways.push([stream.subarray(0, at), stream.subarray(at)]);
  return ways;
}

const mixed = Buffer.concat([
  payloadChunk('a', 'hello', { offset: 0 }),
  payloadChunk('dir/b', 'xyz'),
  payloadChunk('a', ' world', { offset: 5 }),
  eofChunk('dir/b'),
  eofChunk('a'),
  eofChunk('empty'),
  sparseChunk('sparse', [{ skip: 3, data: Buffer.from('AB') }, { skip: 2, data: Buffer.from('C') }]),
  sparseChunk('sparse', [{ skip: 4, data: Buffer.alloc(0) }], 8),
  eofChunk('sparse'),
]);

test('a Percona-style stream (interleaved P, sparse S, empty file) parses the same under every split', async () => {
  const expected = await replay([mixed]);
  assert.deepEqual(expected, [
    `file dir/b = ${Buffer.from('xyz').toString('hex')}`,
    `file a = ${Buffer.from('hello world').toString('hex')}`,
    'file empty = ',
    // 3 zero bytes, AB, 2 zero bytes, C; the trailing 4-byte hole extends the file to 12 bytes
    'file sparse = 000000414200004300000000',
  ]);
  for (const pieces of splits(mixed)) assert.deepEqual(await replay(pieces), expected);
});

const mariadb = Buffer.concat([
  payloadChunk('t.ibd', 'hello'),
  seekChunk('t.ibd', 1),
  payloadChunk('t.ibd', 'EY', { offset: 1 }),
  eofChunk('t.ibd'),
  payloadChunk('t.ibd', 'again', { flags: 0x02 }),
  eofChunk('t.ibd', 0x02),
  renameChunk('t.ibd', 't2.ibd'),
  removeChunk('old.frm'),
]);

test('a MariaDB-style stream (seek, rewrite flag, rename, remove) parses the same under every split', async () => {
  const expected = await replay([mariadb]);
  assert.deepEqual(expected, [
    'seek t.ibd 1',
    `file t.ibd = ${Buffer.from('hEYlo').toString('hex')}`,
    `file t.ibd = ${Buffer.from('again').toString('hex')}`,
    'rename t.ibd t2.ibd',
    'remove old.frm',
  ]);
  for (const pieces of splits(mariadb)) assert.deepEqual(await replay(pieces), expected);
});

test('property: reading what the writer wrote gives back every file, for any sizes, chunking and parallelism', async () => {
  const fileArb = fc.record({
    name: fc.stringMatching(/^[a-z]{1,8}$/),
    data: fc.uint8Array({ maxLength: 5000 }),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fileArb, { selector: (f) => f.name, maxLength: 6 }),
      fc.integer({ min: 1, max: 3000 }),
      fc.integer({ min: 1, max: 4 }),
      async (files, chunkBytes, parallel) => {
        async function* entries(): AsyncGenerator<Entry> {
          for (const f of files) {
            const data = f.data;
            yield {
              kind: 'file',
              path: toSafePath(`d/${f.name}`),
              mode: 0o644,
              mtimeMs: 0,
              content: (async function* () {
                for (let at = 0; at < data.length; at += 777) yield data.subarray(at, at + 777);
              })(),
            };
          }
        }
        const parts: Uint8Array[] = [];
        for await (const p of writeXbstream(entries(), { chunkBytes, parallel })) parts.push(p);
        const got = new Map<string, Buffer[]>();
        async function* one(): AsyncGenerator<Uint8Array> {
          yield Buffer.concat(parts);
        }
        for await (const e of readXbstream(one())) {
          if (e.type === 'data') got.set(e.path, [...(got.get(e.path) ?? []), Buffer.from(e.data)]);
          if (e.type === 'eof' && !got.has(e.path)) got.set(e.path, []);
        }
        assert.equal(got.size, files.length);
        for (const f of files) assert.deepEqual(Buffer.concat(got.get(`d/${f.name}`) ?? []), Buffer.from(f.data));
      },
    ),
    { numRuns: 150 },
  );
});

test('property: flipped bytes and cuts anywhere end in a SluiceError naming a chunk, never another failure', async () => {
  const { SluiceError } = await import('../../src/errors.js');
  const base = Buffer.concat([mixed, mariadb]);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ at: fc.nat(base.length - 1), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 4 }),
      fc.nat(base.length),
      async (flips, cut) => {
        const damaged = Buffer.from(base.subarray(0, Math.max(cut, 1)));
        for (const f of flips) if (f.at < damaged.length) damaged[f.at] = (damaged[f.at] as number) ^ f.xor;
        try {
          await replay([damaged]);
        } catch (err) {
          assert.ok(err instanceof SluiceError, `unexpected ${String(err)}`);
          assert.ok(err.where.chunk !== undefined && err.where.chunk >= 1, err.message);
          assert.ok(err.where.offset !== undefined, err.message);
        }
      },
    ),
    { numRuns: 600 },
  );
});
