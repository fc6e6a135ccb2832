/** The row formatter: the WebAssembly kernel and the JavaScript path write the same bytes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InsertFormatter, KIND_BINARY_STRING, KIND_HEX, KIND_NUMBER, KIND_STRING } from '../../src/source/mysql/row-format.js';
import { rowKernel } from '../../src/source/mysql/row-wasm.js';
import { pseudoRandomBytes } from '../helpers/tree.js';

function lengthEncoded(value: Buffer | null): Buffer {
  if (value === null) return Buffer.of(0xfb);
  const n = value.length;
  let head: Buffer;
  if (n < 251) head = Buffer.of(n);
  else if (n < 65536) head = Buffer.of(0xfc, n & 0xff, n >> 8);
  else head = Buffer.of(0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16);
  return Buffer.concat([head, value]);
}

function format(rows: Buffer[], kinds: Uint8Array, noKernel: boolean, maxFileBytes = 0): { text: Buffer; files: number } {
  const parts: Buffer[] = [];
  let files = 1;
  const f = new InsertFormatter(
    { kinds, insertPrefix: 'INSERT INTO `t` VALUES\n', fileHeader: '-- h\n', statementBytes: 5000, maxFileBytes, noKernel },
    {
      write(buf, length, release) {
        parts.push(Buffer.from(buf.subarray(0, length)));
        release();
      },
      nextFile() {
        files += 1;
      },
    },
  );
  // Rows are laid out one after another in one buffer, like mysql2's socket chunks.
  const all = Buffer.concat(rows);
  let at = 0;
  for (const r of rows) {
    f.addRow(all, at, at + r.length);
    at += r.length;
  }
  f.finish();
  return { text: Buffer.concat(parts), files };
}

test('the WebAssembly kernel is available here and matches the JavaScript formatter byte for byte', () => {
  assert.ok(rowKernel() !== undefined, 'WebAssembly SIMD kernel');
  const random = pseudoRandomBytes(400_000, 5);
  let pos = 0;
  const take = (n: number): Buffer => {
    if (pos + n > random.length) pos = 0;
    const b = random.subarray(pos, pos + n);
    pos += n;
    return Buffer.from(b);
  };
  const kinds = Uint8Array.of(KIND_NUMBER, KIND_STRING, KIND_STRING, KIND_HEX, KIND_BINARY_STRING, KIND_STRING);
  const rows: Buffer[] = [];
  for (let i = 0; i < 3000; i++) {
    const sizes = [i % 17, (i * 7) % 40, i % 500 === 0 ? 70_000 : (i * 13) % 300, i % 33, (i * 3) % 64, i % 5 === 0 ? 0 : 251 + (i % 3)];
    const values = sizes.map((n, c) => {
      if ((i + c) % 11 === 0) return null;
      if (c === 0) return Buffer.from(String(i * 7919 - 5000));
      // Text that is mostly plain, with every byte that needs escaping somewhere.
      const b = take(n);
      if (c === 2) for (let k = 0; k < b.length; k++) if ((b[k] as number) % 7 !== 0) b[k] = 0x61 + ((b[k] as number) % 26);
      return b;
    });
    rows.push(Buffer.concat(values.map(lengthEncoded)));
  }
  const js = format(rows, kinds, true, 20_000);
  const wasm = format(rows, kinds, false, 20_000);
  assert.ok(js.text.length > 500_000);
  assert.ok(js.text.equals(wasm.text));
  assert.equal(js.files, wasm.files);
  assert.ok(js.files > 10);
});

test('values are escaped, hexed and marked as documented', () => {
  const row = Buffer.concat([
    lengthEncoded(Buffer.from('-12.50')),
    lengthEncoded(Buffer.from("a'b\\c\nd\re\0f\x1ag\"h")),
    lengthEncoded(Buffer.of(0x00, 0xff, 0x10)),
    lengthEncoded(Buffer.alloc(0)),
    lengthEncoded(Buffer.from('é')),
    lengthEncoded(null),
  ]);
  const kinds = Uint8Array.of(KIND_NUMBER, KIND_STRING, KIND_HEX, KIND_HEX, KIND_BINARY_STRING, KIND_STRING);
  for (const noKernel of [true, false]) {
    const { text } = format([row], kinds, noKernel);
    assert.equal(
      text.toString('utf8'),
      "-- h\nINSERT INTO `t` VALUES\n(-12.50,'a\\'b\\\\c\\nd\\re\\0f\\Zg\"h',0x00ff10,'',_binary'é',NULL);\n",
    );
  }
});

test('a packet whose value runs past its end is refused by both paths', () => {
  const bad = Buffer.concat([lengthEncoded(Buffer.from('1')), Buffer.of(10, 0x61, 0x62)]);
  for (const noKernel of [true, false]) {
    assert.throws(() => format([bad], Uint8Array.of(KIND_NUMBER, KIND_STRING), noKernel), /malformed row packet/);
  }
});
