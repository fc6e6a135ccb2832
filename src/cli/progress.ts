/**
 * A one-line progress display on stderr (bytes, rate, files, elapsed), drawn by cli-progress.
 * Shown when stderr is a terminal, or always with --progress; never with --no-progress.
 */
import { Meter } from '../filter/meter.js';
import type { StreamProgress } from '../jobs/stream/progress.js';
import type { CliContext } from './context.js';
import { formatBytes, formatRate } from './units.js';

export interface ProgressDisplay {
  stop(): void;
}

export function showProgress(ctx: CliContext, meter: Meter, requested: boolean | undefined, label = ''): ProgressDisplay {
  const enabled = requested ?? ctx.stderr.isTTY === true;
  if (!enabled) return { stop: () => undefined };
  let stopped = false;
  let display: ProgressDisplay | undefined;
  // cli-progress takes a noticeable share of startup; load it only when a progress line is shown.
  void import('cli-progress').then(({ default: cliProgress }) => {
    if (!stopped) display = drawWith(cliProgress, ctx, meter, label);
  });
  return {
    stop: () => {
      stopped = true;
      display?.stop();
    },
  };
}

/** A progress display fed by a stream job's `onProgress`. */
export function showStreamProgress(ctx: CliContext, requested: boolean | undefined): ProgressDisplay & { onProgress: (p: StreamProgress) => void } {
  const meter = new Meter();
  const display = showProgress(ctx, meter, requested);
  return {
    onProgress: (p) => {
      meter.bytes = p.bytes;
      meter.files = p.files;
    },
    stop: () => display.stop(),
  };
}

function drawWith(cliProgress: typeof import('cli-progress'), ctx: CliContext, meter: Meter, label: string): ProgressDisplay {
  const bar = new cliProgress.SingleBar({
    stream: ctx.stderr,
    format: (_options, params, payload: { bytes: string; rate: string; files: number }) =>
      `${label}${payload.bytes}  ${payload.rate}  ${payload.files} files  ${formatDuration(params.startTime)}`,
    fps: 4,
    noTTYOutput: ctx.stderr.isTTY !== true,
    notTTYSchedule: 2000,
    hideCursor: false,
    clearOnComplete: false,
  });
  const payload = () => ({ bytes: formatBytes(meter.bytes), rate: formatRate(meter.rate), files: meter.files });
  bar.start(1, 0, payload());
  const timer = setInterval(() => bar.update(0, payload()), 250);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      bar.update(0, payload());
      bar.stop();
    },
  };
}

function formatDuration(startTime: number): string {
  const s = Math.floor((Date.now() - startTime) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
