/** Limits a byte stream to `bytesPerSecond`, in pieces of about 1/20 s so the rate stays smooth. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface ThrottleOptions {
  /** Milliseconds, monotonic. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  signal?: AbortSignal;
}

export function throttle(bytesPerSecond: number, options: ThrottleOptions = {}) {
  const now = options.now ?? (() => performance.now());
  const pause = options.sleep ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }));
  const piece = Math.max(4096, Math.floor(bytesPerSecond / 20));
  return async function* throttled(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const start = now();
    let sent = 0;
    for await (const chunk of source) {
      for (let at = 0; at < chunk.length; at += piece) {
        const part = chunk.subarray(at, Math.min(chunk.length, at + piece));
        const due = start + (sent / bytesPerSecond) * 1000;
        const wait = due - now();
        if (wait > 1) await pause(wait, options.signal);
        sent += part.length;
        yield part;
      }
    }
  };
}
