/** Bounded parallelism: at most `limit` calls of `fn` run at once; the first failure is thrown after the rest settle. */
export async function forEachLimit<T>(items: Iterable<T> | AsyncIterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  for await (const item of items as AsyncIterable<T>) {
    if (failure !== undefined) break;
    const task = fn(item).then(
      () => {
        running.delete(task);
      },
      (err: unknown) => {
        running.delete(task);
        failure ??= { err };
      },
    );
    running.add(task);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.allSettled([...running]);
  if (failure !== undefined) throw failure.err;
}

/** Like forEachLimit, collecting results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  await forEachLimit(
    items.map((item, index) => ({ item, index })),
    limit,
    async ({ item, index }) => {
      out[index] = await fn(item, index);
    },
  );
  return out;
}
