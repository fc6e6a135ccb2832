/**
 * What a stream job passed over or keeps with a caveat, as (heading, path) pairs: the heading says what
 * happened ("skipped: symlinks (xbstream cannot store them)", "kept, but ..."), so a caller can group
 * paths under it.
 */

export type OnReport = (heading: string, path: string) => void;

/** The xbstream writer's callbacks, reporting into `report`. */
export function xbstreamWriterReports(report: OnReport | undefined): {
  onSkip: (path: string, kind: 'symlink' | 'empty directory') => void;
  onPortability: (path: string, problem: string) => void;
} {
  return {
    onSkip: (path, kind) =>
      report?.(kind === 'symlink' ? 'skipped: symlinks (xbstream cannot store them)' : 'skipped: empty directories (xbstream cannot store them)', path),
    onPortability: (path, problem) => report?.(`kept, but ${problem}`, path),
  };
}
