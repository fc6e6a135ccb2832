/** The LZ4 frame constants shared by the encoder (one frame per block, written by the executor) and the decoder. */

export const LZ4_FRAME_MAGIC = 0x184d2204;
/** Maximum block size by block size code (the BD byte's bits 4..6). */
export const LZ4_BLOCK_BYTES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };
/** FLG: version 01, independent blocks, no block checksums, content size, content checksum. */
export const LZ4_FLG_SLUICE = 0x6c;
/** High bit of a block size word: the block is stored, not compressed. */
export const LZ4_STORED_BIT = 0x80000000;

/** Largest LZ4 frame one block can become: stored blocks, with the header, size words and trailer. */
export function lz4OutputBound(inputBytes: number, blockCode: number): number {
  const blockBytes = LZ4_BLOCK_BYTES[blockCode] ?? 64 << 10;
  return 15 + inputBytes + 4 * Math.max(1, Math.ceil(inputBytes / blockBytes)) + 8;
}
