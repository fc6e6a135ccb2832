/** Copying bytes into memory of their own, and naming the memory a view may move to a worker. */

/** A copy in a buffer of its own (Buffer#slice would share memory). */
export function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  const n = total ?? parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(new ArrayBuffer(n));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The buffer of a view, for a transfer list: after the transfer it is detached here, so nothing on this
 * thread can read it by mistake. Shared buffers are never transferred (they cannot be detached).
 */
export function transferOf(bytes: Uint8Array): ArrayBuffer[] {
  return bytes.buffer instanceof ArrayBuffer && bytes.buffer.byteLength > 0 ? [bytes.buffer] : [];
}
