/** Output buffers of the codec executors: ones that can be transferred back whole, and the per-thread scratch. */

/** A fresh buffer of exactly `n` bytes that owns its ArrayBuffer (safe to transfer; never a pool slice). */
export function ownedBytes(n: number): Uint8Array {
  return Buffer.allocUnsafeSlow(n); // not zero-filled: every byte is written before the buffer leaves
}

/** `parts` back to back in one buffer of their own (`total` is their summed length). */
export function concatOwned(parts: Uint8Array[], total: number): Uint8Array {
  const output = ownedBytes(total);
  let pos = 0;
  for (const part of parts) {
    output.set(part, pos);
    pos += part.length;
  }
  return output;
}

let scratch = new Uint8Array(0);

/** This thread's scratch buffer, at least `n` bytes: reused by the next job, so it never leaves the thread. */
export function scratchOf(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(n);
  return scratch;
}
