/**
 * A bounded queue between one or more async producers and one consumer: `push` waits while the queue
 * is full (backpressure), the consumer iterates it, `end` finishes it, `fail` makes the consumer throw.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #ended = false;
  #failure: { error: unknown } | undefined;
  #wakeConsumer: (() => void) | undefined;
  readonly #wakeProducers: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  /** Waits for room, then adds `item`. Throws once the queue has failed or been closed by its consumer. */
  async push(item: T): Promise<void> {
    while (this.#items.length >= this.capacity && this.#failure === undefined && !this.#ended) {
      await new Promise<void>((resolve) => this.#wakeProducers.push(resolve));
    }
    if (this.#failure !== undefined) throw this.#failure.error;
    if (this.#ended) throw new Error('push after the queue ended');
    this.#items.push(item);
    this.#wake();
  }

  end(): void {
    this.#ended = true;
    this.#wake();
    this.#releaseProducers();
  }

  fail(error: unknown): void {
    this.#failure ??= { error };
    this.#wake();
    this.#releaseProducers();
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  #wake(): void {
    const wake = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    wake?.();
  }

  #releaseProducers(): void {
    for (const wake of this.#wakeProducers.splice(0)) wake();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      for (;;) {
        if (this.#failure !== undefined) throw this.#failure.error;
        const item = this.#items.shift();
        if (item !== undefined) {
          const wake = this.#wakeProducers.shift();
          wake?.();
          yield item;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => {
          this.#wakeConsumer = resolve;
        });
      }
    } finally {
      // a consumer that stops early releases every producer (their next push throws)
      if (!this.#ended || this.#items.length > 0) this.fail(new Error('the consumer stopped reading'));
    }
  }
}
