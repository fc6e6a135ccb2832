/** Where the dump and load jobs put their files when the caller names no directory. */
/** `prefix-YYYYMMDD-HHMMSS` in local time, as mydumper names its default directories (`export-…`, `import-…`). */
export function timestampedName(prefix: string, d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${prefix}-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}
