/**
 * Options such as `--stream[=xbstream|tar]` take an optional value. Commander would swallow the
 * next word (`--stream /data` would read "/data" as the format), so an optional value is only
 * taken from the next word when it is one of the option's choices.
 */
export type OptionalValues = Record<string, readonly string[]>;

export function normalizeOptionalValues(args: readonly string[], optional: OptionalValues): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const choices = optional[arg];
    if (choices !== undefined) {
      const next = args[i + 1];
      if (next !== undefined && choices.includes(next)) {
        out.push(`${arg}=${next}`);
        i += 1;
      } else {
        out.push(`${arg}=${choices[0] ?? ''}`);
      }
      continue;
    }
    out.push(arg);
  }
  return out;
}
