/**
 * The one progress renderer: a line of text on stderr, rewritten in place when stderr is a terminal,
 * otherwise printed as a new line at most every `everyMs` (a log should not fill with progress).
 *
 * Two displays are built on it: `showProgress`, the byte/rate/files line of the streaming commands and
 * `snapshot` (shown on a terminal or with --progress, never with --no-progress), and the table/row lines
 * `dump` and `load` draw from their jobs' progress reports. (cli-progress drew the first until both
 * were one; a line of text needs none of its bars.)
 */
import { Meter } from '../filter/meter.js';
import type { StreamProgress } from '../jobs/stream/progress.js';
import type { CliContext } from './context.js';
import { formatBytes, formatRate } from './units.js';

export interface ProgressLineOptions {
  /** Off: draws nothing (a --quiet or --no-progress command keeps one code path). */
  enabled: boolean;
  /** Off a terminal: the least time between two printed lines (default 10 s). */
  everyMs?: number;
  /** Off a terminal: put before each printed line (the dump's lines read `sluice: tables ...`). */
  logPrefix?: string;
  /** Off a terminal: print the first update at once (default: the first line comes after `everyMs`). */
  printFirst?: boolean;
}

export class ProgressLine {
  readonly #ctx: CliContext;
  readonly #options: ProgressLineOptions;
  #lastPrinted: number;
  #shown = false;

  constructor(ctx: CliContext, options: ProgressLineOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#lastPrinted = options.printFirst === true ? -Infinity : 0;
  }

  get #tty(): boolean {
    return this.#ctx.stderr.isTTY === true;
  }

  /** Shows `text`; off a terminal only if `everyMs` have passed since the last printed line (`elapsedMs` is the job's clock). */
  update(text: string, elapsedMs: number): void {
    if (!this.#options.enabled) return;
    if (this.#tty) {
      this.#ctx.stderr.write(`\r\x1b[K${text}`);
      this.#shown = true;
    } else if (elapsedMs - this.#lastPrinted >= (this.#options.everyMs ?? 10_000)) {
      this.#lastPrinted = elapsedMs;
      this.#ctx.stderr.write(`${this.#options.logPrefix ?? ''}${text}\n`);
    }
  }

  /**
   * Ends the display. Without `final`, a line drawn in place is erased; with it, `final` is the last
   * word: left on the terminal, or printed off it.
   */
  done(final?: string): void {
    if (!this.#options.enabled) return;
    if (final === undefined) {
      if (this.#shown) this.#ctx.stderr.write('\r\x1b[K');
    } else if (this.#tty) {
      this.#ctx.stderr.write(`\r\x1b[K${final}\n`);
    } else {
      this.#ctx.stderr.write(`${this.#options.logPrefix ?? ''}${final}\n`);
    }
    this.#shown = false;
  }
}

export interface ProgressDisplay {
  stop(): void;
}

/** How often the byte/rate line is redrawn, and printed off a terminal. */
const REDRAW_MS = 250;
const LOG_EVERY_MS = 2000;

/** The byte/rate/files line of a command whose `meter` counts its stream. */
export function showProgress(ctx: CliContext, meter: Meter, requested: boolean | undefined, label = ''): ProgressDisplay {
  const enabled = requested ?? ctx.stderr.isTTY === true;
  if (!enabled) return { stop: () => undefined };
  const line = new ProgressLine(ctx, { enabled, everyMs: LOG_EVERY_MS, printFirst: true });
  const started = performance.now();
  const text = (): string =>
    `${label}${formatBytes(meter.bytes)}  ${formatRate(meter.rate)}  ${meter.files} files  ${formatDuration(performance.now() - started)}`;
  line.update(text(), 0);
  const timer = setInterval(() => line.update(text(), performance.now() - started), REDRAW_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      line.done(text());
    },
  };
}

/** A display fed by a stream job's `onProgress` reports. */
export function showStreamProgress(ctx: CliContext, requested: boolean | undefined, label = ''): ProgressDisplay & { onProgress: (p: StreamProgress) => void } {
  const meter = new Meter();
  const display = showProgress(ctx, meter, requested, label);
  return {
    onProgress: (p) => {
      meter.bytes = p.bytes;
      meter.files = p.files;
    },
    stop: () => display.stop(),
  };
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
