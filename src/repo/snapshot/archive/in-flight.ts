/**
 * Work started and not awaited where it begins: remembers the first failure (so the walk stops at the next
 * entry), and lets the caller wait for everything to settle. `Limit` bounds how many of one kind run at once.
 * Hand-written: a dozen lines, and the failure bookkeeping is what matters here, not queueing.
 */
export class InFlight {
  readonly #pending = new Set<Promise<unknown>>();
  #failed = false;
  #err: unknown;

  /** Tracks `p` (its failure, if first, is kept) and returns it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    p.then(
      () => this.#pending.delete(p),
      (err: unknown) => {
        this.#pending.delete(p);
        if (!this.#failed) {
          this.#failed = true;
          this.#err = err;
        }
      },
    );
    return p;
  }

  /** Throws the first failure of any tracked work. */
  throwIfFailed(): void {
    if (this.#failed) throw this.#err;
  }

  /** Waits until every tracked promise (and any tracked meanwhile) has settled. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}

/** At most `max` promises of one kind running at once: `room()` waits until one more may start. */
export class Limit {
  readonly #running = new Set<Promise<unknown>>();

  constructor(readonly max: number) {}

  async room(): Promise<void> {
    while (this.#running.size >= this.max) await Promise.race(this.#running).catch(() => undefined);
  }

  add(p: Promise<unknown>): void {
    this.#running.add(p);
    void p.then(
      () => this.#running.delete(p),
      () => this.#running.delete(p),
    );
  }
}
