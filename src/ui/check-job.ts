/**
 * `check` run from the UI: one at a time, in the background, on a repository opened without the cache
 * (so it reads what the repository holds, as `sluice check` does), under a shared lock. The page polls
 * its state: running or not, the last progress message, and the last report.
 */
import { errorMessage } from '../errors.js';
import { RepoLock } from '../repo/lock.js';
import { checkRepository, type CheckReport } from '../repo/maintenance/check.js';
import type { Repository } from '../repo/repository.js';

export interface CheckState {
  running: boolean;
  startedAt?: string;
  finishedAt?: string;
  progress: string[];
  report?: Omit<CheckReport, 'problems' | 'notes'> & { problems: CheckReport['problems']; notes: string[]; ok: boolean };
  error?: string;
}

const MAX_PROGRESS = 50;

export class CheckJob {
  #state: CheckState = { running: false, progress: [] };
  #done: Promise<void> = Promise.resolve();

  constructor(
    private readonly openUncached: () => Promise<Repository>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get state(): CheckState {
    return { ...this.#state, progress: [...this.#state.progress] };
  }

  /** Resolves when the current run (if any) has finished. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Starts a run unless one is running; returns whether it started. */
  start(): boolean {
    if (this.#state.running) return false;
    this.#state = { running: true, startedAt: this.now().toISOString(), progress: [] };
    this.#done = this.#run();
    return true;
  }

  async #run(): Promise<void> {
    let lock: RepoLock | undefined;
    try {
      const repo = await this.openUncached();
      lock = await RepoLock.acquire(repo, { exclusive: false, purpose: 'check (web UI)', pid: process.pid });
      const report = await checkRepository(repo, {
        onProgress: (message) => {
          this.#state.progress.push(message);
          if (this.#state.progress.length > MAX_PROGRESS) this.#state.progress.shift();
        },
      });
      this.#state.report = { ...report, ok: report.problems.length === 0 };
    } catch (err) {
      this.#state.error = errorMessage(err);
    } finally {
      await lock?.release().catch(() => undefined);
      this.#state.running = false;
      this.#state.finishedAt = this.now().toISOString();
    }
  }
}
