/**
 * Collects paths a command passed over or has a caveat about, grouped by a heading that says what
 * happened ("skipped: ...", "kept, but ..."), to print one warning per group at the end.
 */
import type { CliContext } from './context.js';
import { warn } from './log.js';

export class SkipReport {
  readonly #byReason = new Map<string, string[]>();

  add(heading: string, path: string): void {
    const list = this.#byReason.get(heading);
    if (list === undefined) this.#byReason.set(heading, [path]);
    else list.push(path);
  }

  get count(): number {
    let n = 0;
    for (const list of this.#byReason.values()) n += list.length;
    return n;
  }

  print(ctx: CliContext, limit = 20): void {
    for (const [reason, paths] of this.#byReason) {
      const shown = paths.slice(0, limit).map((p) => `  ${p}`).join('\n');
      const more = paths.length > limit ? `\n  ... and ${paths.length - limit} more` : '';
      warn(ctx, `${paths.length} item(s) ${reason}:\n${shown}${more}`);
    }
  }
}
