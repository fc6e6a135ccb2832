/**
 * Helper process for chunker.test.ts: cuts its stdin (an anonymous pipe) with the reader thread, using
 * few slots released late and out of order, and prints each chunk's first bytes and length as JSON.
 * Usage: producer | node pipe-reader-child.js <slots> <most ms a slot is held>
 */
import { mainThreadChunks, workerChunks } from '../../src/repo/content/chunk-sources.js';
import { gearTable } from '../../src/repo/content/chunker.js';
import { SlotPool } from '../../src/repo/content/slot-pool.js';

export const CHILD_PARAMS = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 };
export const CHILD_GEAR = gearTable(new Uint8Array(32).fill(7));

export async function describeChunks(
  source: { chunks: AsyncIterable<{ slot: number; length: number }>; bytes: number },
  slots: SlotPool,
  holdMs = 5,
): Promise<{ chunks: string[]; bytes: number; free: number }> {
  const chunks: string[] = [];
  for await (const c of source.chunks) {
    chunks.push(`${Buffer.from(slots.view(c.slot, c.length)).toString('hex').slice(0, 16)}:${c.length}`);
    // Release late and out of order, as the real pipeline does.
    setTimeout(() => slots.release(c.slot), Math.random() * holdMs);
  }
  await new Promise((r) => setTimeout(r, 20));
  return { chunks, bytes: source.bytes, free: slots.available };
}

export { mainThreadChunks };

if (process.argv[1]?.endsWith('pipe-reader-child.js')) {
  const slots = new SlotPool(Number(process.argv[2] ?? 3), CHILD_PARAMS.max);
  const result = await describeChunks(workerChunks(0, slots, CHILD_GEAR, CHILD_PARAMS), slots, Number(process.argv[3] ?? 5));
  process.stdout.write(JSON.stringify(result));
}
