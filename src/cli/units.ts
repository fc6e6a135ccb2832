/** Parsing and printing of sizes and rates for the command line. */
import { UsageError } from '../errors.js';

const SUFFIX: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `10M`, `512k`, `1.5G`, `4096` → bytes (binary multiples, like xtrabackup and pv). */
export function parseSize(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?$/.exec(text.trim());
  if (m === null) throw new UsageError(`${option}: "${text}" is not a size (examples: 4096, 512K, 10M, 1G)`);
  const value = Number(m[1]) * (SUFFIX[(m[2] ?? '').toUpperCase()] ?? 1);
  if (!Number.isFinite(value) || value > Number.MAX_SAFE_INTEGER) throw new UsageError(`${option}: "${text}" is too large`);
  return Math.floor(value);
}

export function parseCount(text: string, option: string, min = 1, max = 1024): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${option}: "${text}" must be a whole number from ${min} to ${max}`);
  }
  return n;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}
