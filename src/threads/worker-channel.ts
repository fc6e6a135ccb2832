/**
 * The main thread's side of one worker thread: requests by number, each settled by a reply, and the one
 * rule every wrapper of a worker needs: when the thread errors or exits, every request still waiting is
 * rejected (with an error naming the thread), and later requests are refused, so nothing waits forever.
 *
 * The channel does not know the wrapper's protocol: the wrapper posts its own messages (with its own
 * transfer lists and shared memory) and, from `onMessage`, settles the requests a reply answers (one
 * reply may answer several). Messages that answer no request (events) are the wrapper's too.
 */
import { createRequire } from 'node:module';
import type { Worker, WorkerOptions } from 'node:worker_threads';

/**
 * node:worker_threads, loaded when the first thread starts: loading it costs a few milliseconds of start-up,
 * which commands that never start a thread (most small ones) need not pay.
 */
let workerClass: typeof Worker | undefined;
const WorkerThread = (): typeof Worker =>
  (workerClass ??= (createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads')).Worker);

export interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

export interface WorkerChannelOptions {
  /** What the thread is, for error messages: "the NAME thread exited (status 1) with 2 requests waiting". */
  name: string;
  workerData?: WorkerOptions['workerData'];
  /**
   * `while-waiting` (default): the thread keeps the process alive only while requests wait (an idle pool
   * never does). `always`: as a plain Worker.
   */
  keepAlive?: 'while-waiting' | 'always';
  /** Every message of the thread; settle requests from here with `resolve`/`reject`. */
  onMessage: (message: unknown) => void;
  /** Called once, after the waiting requests were rejected, when the thread failed or was stopped. */
  onFailure?: (err: Error) => void;
}

export class WorkerChannel {
  readonly #worker: Worker;
  readonly #name: string;
  readonly #whileWaiting: boolean;
  readonly #waiting = new Map<number, Waiter<never>>();
  readonly #onFailure: ((err: Error) => void) | undefined;
  #next = 0;
  #failure: Error | undefined;

  constructor(url: URL, options: WorkerChannelOptions) {
    this.#name = options.name;
    this.#whileWaiting = (options.keepAlive ?? 'while-waiting') === 'while-waiting';
    this.#onFailure = options.onFailure;
    this.#worker = new (WorkerThread())(url, options.workerData === undefined ? {} : { workerData: options.workerData });
    if (this.#whileWaiting) this.#worker.unref();
    this.#worker.on('message', options.onMessage);
    this.#worker.on('error', (err: unknown) => this.#fail(err instanceof Error ? err : new Error(String(err))));
    // A thread that ends without an error (terminated, or its event loop ran dry) must not leave requests waiting.
    this.#worker.on('exit', (code) => this.#fail(new Error(`the ${this.#name} thread exited (status ${code})${this.#waitingText()}`)));
  }

  /** Requests waiting for a reply. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Why the thread can take no more requests (it failed, exited or was stopped), if it cannot. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** A fresh request number. */
  nextId(): number {
    return ++this.#next;
  }

  /** Sends a message (throws if the thread has failed). Buffers in `transfer` move to the thread. */
  post(message: unknown, transfer: readonly ArrayBuffer[] = []): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#worker.postMessage(message, transfer as ArrayBuffer[]);
  }

  /** Registers `waiter` for request `id` (rejected at once if the thread has failed). */
  expect<T>(id: number, waiter: Waiter<T>): void {
    if (this.#failure !== undefined) {
      waiter.reject(this.#failure);
      return;
    }
    if (this.#waiting.size === 0 && this.#whileWaiting) this.#worker.ref();
    this.#waiting.set(id, waiter as Waiter<never>);
  }

  /** Sends the message `build(id)` for a fresh request and waits for its reply. */
  call<T>(build: (id: number) => unknown, transfer: readonly ArrayBuffer[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#failure !== undefined) {
        reject(this.#failure);
        return;
      }
      const id = this.nextId();
      const message = build(id);
      this.expect(id, { resolve, reject });
      try {
        this.#worker.postMessage(message, transfer as ArrayBuffer[]);
      } catch (err) {
        this.#take(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Answers request `id` (a reply for a request no longer waiting is ignored). */
  resolve(id: number, value: unknown): void {
    this.#take(id)?.resolve(value as never);
  }

  reject(id: number, err: Error): void {
    this.#take(id)?.reject(err);
  }

  /** Stops the thread; requests still waiting are rejected with `reason`, or as by any exit. */
  async terminate(reason?: Error): Promise<void> {
    if (reason !== undefined) this.#fail(reason);
    await this.#worker.terminate();
  }

  #take(id: number): Waiter<never> | undefined {
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) return undefined;
    this.#waiting.delete(id);
    if (this.#waiting.size === 0 && this.#whileWaiting) this.#worker.unref();
    return waiter;
  }

  #waitingText(): string {
    const n = this.#waiting.size;
    return n === 0 ? '' : ` with ${n} request${n === 1 ? '' : 's'} waiting`;
  }

  #fail(err: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const waiter of waiting) waiter.reject(err);
    this.#onFailure?.(err);
  }
}
