/**
 * The unit every pipeline moves: an entry is a file, a directory or a symlink with a relative path.
 * Paths are validated once, where they enter the system, and carry the SafePath brand afterwards.
 */
import { UnsafePathError } from './errors.js';

declare const safePathBrand: unique symbol;
/** A relative, `/`-separated path with no empty, `.` or `..` components, no NUL and no backslash. */
export type SafePath = string & { readonly [safePathBrand]: true };

export const MAX_PATH_BYTES = 4096;
export const MAX_PATH_DEPTH = 256;

export interface EntryBase {
  path: SafePath;
  /** Permission bits (07777). */
  mode: number;
  /** Modification time, milliseconds since the epoch. */
  mtimeMs: number;
  /** Numeric owner, when the source knows it (tar records it). */
  uid?: number;
  gid?: number;
}

export interface FileEntry extends EntryBase {
  kind: 'file';
  /** Known for files read from disk; unknown for stdin and after compression. */
  size?: number;
  content: AsyncIterable<Uint8Array>;
}

export interface DirEntry extends EntryBase {
  kind: 'dir';
}

export interface SymlinkEntry extends EntryBase {
  kind: 'symlink';
  target: string;
}

export type Entry = FileEntry | DirEntry | SymlinkEntry;
export type EntryKind = Entry['kind'];

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Validates a path from any origin (a stream header, a directory walk, the command line).
 * Rejects rather than repairs: the string that passes is the exact string later used.
 */
export function toSafePath(raw: string | Uint8Array, maxBytes = MAX_PATH_BYTES): SafePath {
  const path = typeof raw === 'string' ? raw : textDecoder.decode(raw);
  const refuse = (why: string): never => {
    throw new UnsafePathError('E_UNSAFE_PATH', `unsafe path ${JSON.stringify(path)}: ${why}`, { path });
  };
  if (path.length === 0) refuse('empty');
  if (path.includes('\0')) refuse('contains NUL');
  if (path.includes('\\')) refuse('contains a backslash');
  if (path.startsWith('/')) refuse('absolute');
  if (/^[A-Za-z]:/.test(path)) refuse('drive-relative');
  const bytes = typeof raw === 'string' ? Buffer.byteLength(path) : raw.length;
  if (bytes > maxBytes) refuse(`longer than ${maxBytes} bytes`);
  const parts = path.split('/');
  if (parts.length > MAX_PATH_DEPTH) refuse(`deeper than ${MAX_PATH_DEPTH} levels`);
  for (const part of parts) {
    if (part === '') refuse('empty component');
    if (part === '.' || part === '..') refuse(`"${part}" component`);
  }
  return path as SafePath;
}

export function isSafePath(raw: string): raw is SafePath {
  try {
    toSafePath(raw);
    return true;
  } catch {
    return false;
  }
}

/** Joins validated components; each part must itself be a safe path. */
export function joinSafe(...parts: string[]): SafePath {
  return toSafePath(parts.filter((p) => p !== '').join('/'));
}

export function parentOf(path: SafePath): SafePath | undefined {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? undefined : (path.slice(0, slash) as SafePath);
}

/** The last component of a slash-separated path (all of it when it has no slash). */
export function baseNameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
