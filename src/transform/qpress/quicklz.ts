/**
 * A decoder for QuickLZ 1.5.0 level-1 blocks (streaming buffer 0), the blocks inside MariaDB's `.qp`
 * (qpress) files. Written by hand because no maintained library for Node decodes this format and no
 * Debian tool ships qpress. The layout, as we understand it from the format's description:
 *
 *   header   byte 0 flags: bit 0 compressed, bit 1 long header (9 bytes; else 3), bits 2-3 level,
 *            bit 6 always set. Then total block size (header included) and decompressed size,
 *            u32 LE each in the long header, one byte each in the short one.
 *   stored   (bit 0 clear) the data follows the header verbatim.
 *   body     control words (u32 LE) interleaved with symbols; a word's bits are read from bit 0 up,
 *            its highest set bit is a sentinel, and a word is read when only the sentinel is left.
 *            Bit 0 = literal byte. Bit 1 = match: the next u16 LE holds a 12-bit hash (bits 4-15) and
 *            a length code (bits 0-3): code n > 0 means length n + 2, code 0 means the length is the
 *            following byte. The match source is the last position recorded under that hash.
 *            The decoder records positions as the encoder did: every position whose three bytes are
 *            known, except those inside a match, hashed as ((f >>> 12) ^ f) & 0xfff of the u24 there.
 *            The last 10 bytes of a block (from size − 10 on) are always literals, with no hashing.
 *
 * Everything is checked: a block that reads past its end, writes past its declared size, declares
 * sizes beyond the caller's cap, or leaves bytes unread is a QuicklzError with the block offset.
 */

export const QUICKLZ_HASH_VALUES = 4096;
/** Bytes at the end of a block that are always literals (UNCONDITIONAL_MATCHLEN + UNCOMPRESSED_END + 1). */
const LITERAL_TAIL = 11;
/** QuickLZ's documented worst-case expansion of a compressed block. */
export const QUICKLZ_MAX_EXPANSION = 400;

export class QuicklzError extends Error {
  constructor(
    message: string,
    /** Offset within the block where decoding stopped. */
    readonly at: number,
  ) {
    super(message);
    this.name = 'QuicklzError';
  }
}

export interface QuicklzHeader {
  headerBytes: 3 | 9;
  /** The whole block, header included. */
  blockBytes: number;
  decompressedBytes: number;
  compressed: boolean;
  level: number;
}

/** Parses a block header from its first bytes (at least 9, or 3 for a short header); undefined if too few. */
export function decodeQuicklzHeader(b: Uint8Array): QuicklzHeader | undefined {
  if (b.length < 1) return undefined;
  const flags = b[0]!;
  const long = (flags & 2) !== 0;
  const headerBytes = long ? 9 : 3;
  if (b.length < headerBytes) return undefined;
  const read = (at: number): number =>
    long ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0 : b[at]!;
  return {
    headerBytes,
    blockBytes: read(1),
    decompressedBytes: long ? read(5) : read(2),
    compressed: (flags & 1) !== 0,
    level: (flags >> 2) & 3,
  };
}

/** Checks a header's fields against each other and a cap; returns a reason when they are impossible. */
export function quicklzHeaderProblem(h: QuicklzHeader, maxDecompressedBytes: number): string | undefined {
  if (h.level !== 1) return `QuickLZ level ${h.level} is not supported (qpress writes level 1)`;
  if (h.decompressedBytes > maxDecompressedBytes) {
    return `block declares ${h.decompressedBytes} decompressed bytes, more than the ${maxDecompressedBytes} allowed`;
  }
  if (h.blockBytes < h.headerBytes) return `block declares a size of ${h.blockBytes} bytes, smaller than its header`;
  if (!h.compressed && h.blockBytes !== h.headerBytes + h.decompressedBytes) {
    return `stored block of ${h.decompressedBytes} bytes declares a size of ${h.blockBytes}`;
  }
  if (h.blockBytes > h.headerBytes + h.decompressedBytes + QUICKLZ_MAX_EXPANSION) {
    return `block declares ${h.blockBytes} bytes for ${h.decompressedBytes} decompressed bytes`;
  }
  return undefined;
}

/** Decodes one whole block (header included) into a new array of its declared decompressed size. */
export function decompressQuicklzBlock(block: Uint8Array, maxDecompressedBytes: number): Uint8Array {
  const h = decodeQuicklzHeader(block);
  if (h === undefined) throw new QuicklzError('block is shorter than its header', 0);
  const problem = quicklzHeaderProblem(h, maxDecompressedBytes);
  if (problem !== undefined) throw new QuicklzError(problem, 0);
  if (h.blockBytes !== block.length) {
    throw new QuicklzError(`block declares ${h.blockBytes} bytes but ${block.length} were given`, 0);
  }
  const size = h.decompressedBytes;
  const out = new Uint8Array(size);
  if (!h.compressed) {
    out.set(block.subarray(h.headerBytes));
    return out;
  }

  const end = block.length;
  const table = new Int32Array(QUICKLZ_HASH_VALUES);
  const lastMatchStart = size - LITERAL_TAIL;
  let src = h.headerBytes;
  let dst = 0;
  let cword = 1;
  let lastHashed = -1;

  const hashAt = (p: number): number => {
    const f = out[p]! | (out[p + 1]! << 8) | (out[p + 2]! << 16);
    return ((f >>> 12) ^ f) & (QUICKLZ_HASH_VALUES - 1);
  };

  for (;;) {
    if (cword === 1) {
      if (src + 4 > end) throw new QuicklzError('block ends inside a control word', src);
      cword = (block[src]! | (block[src + 1]! << 8) | (block[src + 2]! << 16) | (block[src + 3]! << 24)) >>> 0;
      src += 4;
      if (cword === 0) throw new QuicklzError('control word without its sentinel bit', src - 4);
    }
    if ((cword & 1) !== 0) {
      cword >>>= 1;
      if (src + 2 > end) throw new QuicklzError('block ends inside a match', src);
      const f = block[src]! | (block[src + 1]! << 8);
      const from = table[(f >>> 4) & 0xfff]!;
      let length: number;
      if ((f & 0xf) !== 0) {
        length = (f & 0xf) + 2;
        src += 2;
      } else {
        if (src + 3 > end) throw new QuicklzError('block ends inside a match', src);
        length = block[src + 2]!;
        src += 3;
      }
      if (dst + length > size) {
        throw new QuicklzError(`match of ${length} bytes at output ${dst} runs past the block's ${size} bytes`, src);
      }
      const matchStart = dst;
      // byte by byte: a match may overlap the bytes it produces
      for (let i = 0; i < length; i++) out[dst + i] = out[from + i]!;
      dst += length;
      while (lastHashed < matchStart) {
        lastHashed += 1;
        table[hashAt(lastHashed)] = lastHashed;
      }
      lastHashed = dst - 1;
    } else if (dst <= lastMatchStart) {
      if (src >= end) throw new QuicklzError('block ends inside a literal', src);
      out[dst++] = block[src++]!;
      cword >>>= 1;
      while (lastHashed < dst - 3) {
        lastHashed += 1;
        table[hashAt(lastHashed)] = lastHashed;
      }
    } else {
      // the literal tail: the rest of the output is literals, still counted in control words
      while (dst < size) {
        if (cword === 1) {
          src += 4;
          cword = 0x80000000;
        }
        if (src >= end) throw new QuicklzError('block ends inside its final literals', Math.min(src, end));
        out[dst++] = block[src++]!;
        cword >>>= 1;
      }
      break;
    }
  }
  if (src !== end) throw new QuicklzError(`${end - src} bytes left over after the block's ${size} bytes`, src);
  return out;
}
