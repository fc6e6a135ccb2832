/**
 * One LZ4 block decoded into at most `maxBlockBytes`, on a codec worker. Independent blocks go through
 * the `lz4` package (the reference C library's LZ4_decompress_safe) into one scratch buffer per worker,
 * reused, and leave as an exact-size copy: no native memory is kept per block. lz4-napi, used before,
 * returned a fresh native-backed Buffer per block.
 *
 * A linked block (frames written with `lz4 -BD`) may copy from the previous 64 KiB of output, which
 * LZ4_decompress_safe cannot be given (the `lz4` package exposes no *_usingDict call), so those blocks are
 * decoded here in JavaScript: a block is a run of sequences (token, literals, 2-byte offset, match length),
 * every length and offset checked against the input, the output bound and the dictionary.
 */
import { createRequire } from 'node:module';

interface Lz4Reference {
  /** LZ4_decompress_safe of input[start, end) into output: the decoded size, or a negative number. */
  decodeBlock(input: Buffer, output: Buffer, start?: number, end?: number): number;
}
const require = createRequire(import.meta.url);
let reference: Lz4Reference | undefined;
let scratch = Buffer.alloc(0);

class Lz4BlockError extends Error {}

export function decodeLz4Block(block: Uint8Array, maxBlockBytes: number, dictionary?: Uint8Array): Uint8Array {
  if (dictionary !== undefined && dictionary.length > 0) return decodeLinked(block, maxBlockBytes, dictionary);
  reference ??= require('lz4') as Lz4Reference;
  if (scratch.length < maxBlockBytes) scratch = Buffer.allocUnsafeSlow(maxBlockBytes);
  const input = Buffer.from(block.buffer, block.byteOffset, block.length);
  const n = block.length === 0 ? -1 : reference.decodeBlock(input, scratch.subarray(0, maxBlockBytes));
  if (n < 0) throw new Lz4BlockError(`malformed, or decodes to more than the frame's ${maxBlockBytes} bytes`);
  return new Uint8Array(scratch.subarray(0, n));
}

function decodeLinked(src: Uint8Array, maxBlockBytes: number, dictionary: Uint8Array): Uint8Array {
  const base = dictionary.length;
  const end = base + maxBlockBytes;
  const out = new Uint8Array(end);
  out.set(dictionary);
  const bad = (what: string, at: number): never => {
    throw new Lz4BlockError(`${what} at byte ${at} of the block`);
  };
  const length = (first: number, at: { i: number }): number => {
    let n = first;
    if (first !== 15) return n;
    for (;;) {
      if (at.i >= src.length) bad('a length runs past the end', at.i);
      const b = src[at.i++] as number;
      n += b;
      if (b !== 255) return n;
    }
  };
  const at = { i: 0 };
  let j = base;
  if (src.length === 0) bad('an empty block', 0);
  while (at.i < src.length) {
    const token = src[at.i++] as number;
    const literals = length(token >>> 4, at);
    if (at.i + literals > src.length) bad('literals run past the end', at.i);
    if (j + literals > end) bad(`output passes the frame's ${maxBlockBytes} bytes`, at.i);
    out.set(src.subarray(at.i, at.i + literals), j);
    at.i += literals;
    j += literals;
    if (at.i === src.length) break; // the last sequence is literals only
    if (at.i + 2 > src.length) bad('a match offset runs past the end', at.i);
    const offset = (src[at.i] as number) | ((src[at.i + 1] as number) << 8);
    if (offset === 0 || offset > j) bad(`match offset ${offset} reaches before the dictionary`, at.i);
    at.i += 2;
    const match = length(token & 15, at) + 4;
    if (j + match > end) bad(`output passes the frame's ${maxBlockBytes} bytes`, at.i);
    let from = j - offset;
    if (offset >= match) {
      out.copyWithin(j, from, from + match);
      j += match;
    } else {
      for (let k = 0; k < match; k++) out[j++] = out[from++] as number; // overlapping: a repeating pattern
    }
  }
  return out.slice(base, j);
}
