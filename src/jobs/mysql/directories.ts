/** Where the dump and load jobs put their files when the caller names no directory. */
import { stat } from 'node:fs/promises';

/** `prefix-YYYYMMDD-HHMMSS` in local time, as mydumper names its default directories (`export-…`, `import-…`). */
export function timestampedName(prefix: string, d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${prefix}-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
