import { baseNameOf } from '../../entry.js';

/**
 * The glob language of `--exclude` (and of `find`): `*` (anything but `/`), `**` (anything), `?` (one
 * character but `/`); a pattern matches the whole path or its last component.
 */
export interface GlobOptions {
  /** Letters match regardless of case (`*.SQL` finds `dump.sql`). */
  ignoreCase?: boolean;
}

export function globMatcher(patterns: readonly string[], options: GlobOptions = {}): (path: string) => boolean {
  const regexes = patterns.map((p) => {
    let re = '';
    for (let i = 0; i < p.length; i++) {
      const c = p[i] as string;
      if (c === '*' && p[i + 1] === '*') {
        re += '.*';
        i += 1;
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${re}$`, options.ignoreCase === true ? 'i' : '');
  });
  return (path) => {
    const base = baseNameOf(path);
    return regexes.some((r) => r.test(path) || r.test(base));
  };
}
