/** Drains an async iterable of bytes into a Writable, waiting for 'drain' whenever it asks to. */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { BufferPool } from '../bytes/buffer-pool.js';

/** With `recycle`, each chunk is offered back to the pool once the destination has written it. */
export async function writeAll(
  source: AsyncIterable<Uint8Array>,
  destination: Writable,
  signal?: AbortSignal,
  recycle?: BufferPool,
): Promise<void> {
  let failed: Error | undefined;
  const onError = (err: Error): void => {
    failed ??= err;
  };
  destination.on('error', onError);
  try {
    for await (const chunk of source) {
      if (failed !== undefined) throw failed;
      signal?.throwIfAborted();
      const more = recycle === undefined ? destination.write(chunk) : destination.write(chunk, () => recycle.give(chunk));
      if (!more) await once(destination, 'drain', { signal });
    }
    if (failed !== undefined) throw failed;
  } finally {
    destination.off('error', onError);
  }
}

/** Ends a file-like Writable and waits until its data is flushed. */
export async function finish(destination: Writable): Promise<void> {
  if (destination.writableFinished) return;
  const done = once(destination, 'finish');
  destination.end();
  await done;
}
