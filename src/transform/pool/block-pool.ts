/**
 * A bounded pool of worker threads for codec work (compress, decompress, encrypt, decrypt), so the
 * CPU-heavy part of every transform runs off the event loop.
 *
 * - Fixed workers (`threads`), started on first use and stopped after `idleMs` without work; an idle
 *   pool never keeps the process alive.
 * - Admission is bounded: at most `capacity` jobs are queued or running at once; `run()` waits for a
 *   slot. Together with the per-stream window of `orderedMap` this bounds memory to about
 *   (capacity + streams × window) blocks. A small job (input of at most 256 KiB: most files of a tree)
 *   takes an eighth of a slot.
 * - Jobs go to a worker several to a message (small ones, up to 16 and 4 MiB of input): a message round
 *   trip costs as much as compressing a small file (decision log, docs/architecture.md).
 * - A job may be pinned to one worker (`PinnedWorker`) when it depends on state kept there (a streaming
 *   decoder); pinned jobs run in submission order.
 * - A failed job rejects its own promise only; callers decide (orderedMap reports the first failure in
 *   stream order and stops submitting).
 */
import { WorkerChannel } from '../../threads/worker-channel.js';
import { JobError } from './job-failure.js';
import type { CodecJob, CodecResult, JobFailure } from './jobs.js';

export interface BlockPoolOptions {
  /** Worker threads (1..64). */
  threads: number;
  /** Jobs queued or running at once; default 2 per thread plus 2. */
  capacity?: number;
  /** Stop the workers after this long without work (ms); default 2000. */
  idleMs?: number;
}

interface Pending {
  id: number;
  job: CodecJob;
  transfer: ArrayBuffer[];
  /** Admission units held (see UNITS_PER_JOB). */
  units: number;
  resolve: (result: CodecResult) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  /** The worker; its waiting requests are the jobs sent to it and not yet answered. */
  channel: WorkerChannel;
  /** Messages sent and not yet answered. */
  messages: number;
  pinned: Pending[];
  pins: number;
  broken: boolean;
}

/** Messages handed to one worker before it answers; two hide the message round trip. */
const IN_FLIGHT_PER_WORKER = 2;
/** A job whose input is at most this large is small: it may share a message and takes one admission unit. */
const SMALL_JOB_BYTES = 256 << 10;
/** Admission units of any other job (capacity counts such jobs). */
const UNITS_PER_JOB = 8;
const MAX_JOBS_PER_MESSAGE = 16;
const MAX_MESSAGE_INPUT_BYTES = 4 << 20;

function inputBytes(job: CodecJob): number {
  const input = (job as { input?: unknown }).input;
  return input instanceof Uint8Array ? input.length : 0;
}

function unitsOf(job: CodecJob): number {
  return inputBytes(job) <= SMALL_JOB_BYTES ? 1 : UNITS_PER_JOB;
}

/** What a worker answers: one result or failure per job of the message. */
export type WorkerReply = { id: number; result?: CodecResult; failure?: JobFailure }[];

/** Jobs one stream keeps outstanding: one per worker and one more queued behind them. */
export function streamWindow(pool: BlockPool): number {
  return pool.threads + 1;
}

export class BlockPool {
  readonly threads: number;
  readonly capacity: number;
  readonly #idleMs: number;
  #slots: Slot[] = [];
  readonly #shared: Pending[] = [];
  #admitted = 0;
  readonly #waiting: { units: number; resolve: () => void }[] = [];
  #pumpScheduled = false;
  #nextId = 1;
  #nextPin = 1;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(options: BlockPoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1 || options.threads > 64) {
      throw new RangeError(`threads must be a whole number from 1 to 64, not ${options.threads}`);
    }
    this.threads = options.threads;
    this.capacity = options.capacity ?? options.threads * 2 + 2;
    this.#idleMs = options.idleMs ?? 2000;
  }

  /** Runs one job on any worker. Buffers in `transfer` move to the worker (they become unusable here). */
  async run(job: CodecJob, transfer: ArrayBuffer[] = []): Promise<CodecResult> {
    const units = unitsOf(job);
    await this.#admit(units);
    return this.#enqueue(job, transfer, undefined, units);
  }

  /** A handle whose jobs all run on one worker, in order. Close it when done. */
  pinWorker(): PinnedWorker {
    this.#startWorkers();
    let best: Slot | undefined;
    for (const slot of this.#slots) {
      if (slot.broken) continue;
      if (best === undefined || slot.pins + slot.channel.waiting < best.pins + best.channel.waiting) best = slot;
    }
    if (best === undefined) throw new Error('no codec worker is available');
    best.pins += 1;
    return new PinnedWorker(this, best, this.#nextPin++);
  }

  /** @internal used by PinnedWorker */
  async runPinned(slot: Slot, job: CodecJob, transfer: ArrayBuffer[]): Promise<CodecResult> {
    await this.#admit(UNITS_PER_JOB);
    return this.#enqueue(job, transfer, slot, UNITS_PER_JOB);
  }

  /** @internal used by PinnedWorker */
  releasePinned(slot: Slot): void {
    slot.pins -= 1;
    this.#checkIdle();
  }

  /** Stops the workers now; jobs still running are rejected. */
  async close(): Promise<void> {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    const slots = this.#slots;
    this.#slots = [];
    const closed = new Error('the codec pool was closed');
    await Promise.all(slots.map((s) => s.channel.terminate(closed)));
  }

  async #admit(units: number): Promise<void> {
    if (this.#waiting.length === 0 && this.#admitted + units <= this.capacity * UNITS_PER_JOB) {
      this.#admitted += units;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push({ units, resolve }));
    // the releaser admitted us: #admitted already counts our units
  }

  #release(units: number): void {
    this.#admitted -= units;
    for (;;) {
      const next = this.#waiting[0];
      if (next === undefined || this.#admitted + next.units > this.capacity * UNITS_PER_JOB) break;
      this.#waiting.shift();
      this.#admitted += next.units;
      next.resolve();
    }
  }

  #enqueue(job: CodecJob, transfer: ArrayBuffer[], slot: Slot | undefined, units: number): Promise<CodecResult> {
    return new Promise<CodecResult>((resolve, reject) => {
      const pending: Pending = {
        id: this.#nextId++,
        job,
        transfer,
        units,
        resolve: (r) => {
          this.#release(units);
          resolve(r);
        },
        reject: (e) => {
          this.#release(units);
          reject(e);
        },
      };
      if (slot !== undefined) {
        if (slot.broken) {
          pending.reject(new Error('the codec worker this stream is pinned to stopped'));
          return;
        }
        slot.pinned.push(pending);
      } else {
        this.#shared.push(pending);
      }
      this.#startWorkers();
      this.#schedulePump();
    });
  }

  /** Pumps once the current turn's jobs are all queued, so that small ones can share messages. */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #startWorkers(): void {
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
    while (this.#slots.length < this.threads) this.#slots.push(this.#spawn());
  }

  #spawn(): Slot {
    const slot: Slot = {
      channel: new WorkerChannel(new URL('./codec-worker.js', import.meta.url), {
        name: 'codec worker',
        onMessage: (message) => {
          slot.messages -= 1;
          for (const msg of message as WorkerReply) {
            if (msg.failure !== undefined) slot.channel.reject(msg.id, new JobError(msg.failure));
            else slot.channel.resolve(msg.id, msg.result as CodecResult);
          }
          this.#pump();
          this.#checkIdle();
        },
        // the channel has rejected the jobs sent to this worker; the ones queued for it go too
        onFailure: (err) => this.#fail(slot, err),
      }),
      messages: 0,
      pinned: [],
      pins: 0,
      broken: false,
    };
    return slot;
  }

  #fail(slot: Slot, err: Error): void {
    slot.broken = true;
    slot.messages = 0;
    for (const pending of slot.pinned.splice(0)) pending.reject(err);
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
    this.#pump();
  }

  /** The next message's jobs for `slot`: one pinned job, or shared jobs (several if they are small). */
  #nextMessage(slot: Slot): Pending[] {
    const pinned = slot.pinned.shift();
    if (pinned !== undefined) return [pinned];
    const jobs: Pending[] = [];
    let bytes = 0;
    while (jobs.length < MAX_JOBS_PER_MESSAGE) {
      const next = this.#shared[0];
      if (next === undefined) break;
      const size = inputBytes(next.job);
      const small = next.units < UNITS_PER_JOB;
      if (jobs.length > 0 && (!small || bytes + size > MAX_MESSAGE_INPUT_BYTES)) break;
      jobs.push(this.#shared.shift() as Pending);
      bytes += size;
      if (!small) break;
    }
    return jobs;
  }

  #pump(): void {
    // idle workers first, then a second message each to hide the round trip
    for (let depth = 1; depth <= IN_FLIGHT_PER_WORKER; depth++) {
      for (const slot of this.#slots) {
        while (slot.messages < depth) {
          const jobs = this.#nextMessage(slot);
          if (jobs.length === 0) break;
          for (const job of jobs) slot.channel.expect(job.id, job);
          slot.messages += 1;
          try {
            slot.channel.post(
              jobs.map((p) => ({ id: p.id, job: p.job })),
              [...new Set(jobs.flatMap((p) => p.transfer))],
            );
          } catch (err) {
            slot.messages -= 1;
            for (const job of jobs) slot.channel.reject(job.id, err instanceof Error ? err : new Error(String(err)));
          }
        }
      }
    }
    if (this.#shared.length > 0 && this.#slots.length < this.threads) {
      this.#startWorkers();
      this.#pump();
    }
  }

  #checkIdle(): void {
    let busy = this.#shared.length > 0;
    for (const slot of this.#slots) {
      // an idle worker does not keep the process alive (the channel unrefs it when no job waits)
      if (slot.channel.waiting > 0 || slot.pinned.length > 0) busy = true;
      if (slot.pins > 0) busy = true;
    }
    if (busy || this.#slots.length === 0 || this.#idleTimer !== undefined) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      void this.close();
    }, this.#idleMs);
    this.#idleTimer.unref();
  }
}

/** Jobs that must run on the worker holding some state (for example a streaming decoder). */
export class PinnedWorker {
  #closed = false;
  constructor(
    readonly pool: BlockPool,
    readonly slot: Slot,
    readonly id: number,
  ) {}

  run(job: CodecJob, transfer: ArrayBuffer[] = []): Promise<CodecResult> {
    if (this.#closed) return Promise.reject(new Error('the pinned worker was released'));
    return this.pool.runPinned(this.slot, job, transfer);
  }

  /** Drops the worker-side state and lets the worker go idle. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (!this.slot.broken) await this.pool.runPinned(this.slot, { kind: 'pinned-close', pin: this.id }, []);
    } catch {
      // the worker is gone; so is its state
    } finally {
      this.pool.releasePinned(this.slot);
    }
  }
}

/**
 * Maps a stream through an async function with at most `window` calls outstanding, yielding results
 * in input order. Input is pulled only as the window allows. A failure is reported when the consumer
 * reaches it (results before it are still delivered); nothing new is started after that, and
 * outstanding calls are left to finish with their results dropped.
 */
export async function* orderedMap<T, R>(
  source: AsyncIterable<T>,
  window: number,
  fn: (item: T, index: number) => Promise<R>,
): AsyncGenerator<R> {
  const it = source[Symbol.asyncIterator]();
  const outstanding: Promise<R>[] = [];
  let index = 0;
  let ended = false;
  try {
    for (;;) {
      while (!ended && outstanding.length < window) {
        const next = await it.next();
        if (next.done === true) {
          ended = true;
          break;
        }
        const p = fn(next.value, index++);
        p.catch(() => undefined); // observed when its turn comes; never an unhandled rejection
        outstanding.push(p);
      }
      const head = outstanding.shift();
      if (head === undefined) return;
      yield await head;
    }
  } finally {
    if (!ended) await it.return?.();
  }
}
