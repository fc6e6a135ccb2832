/** Filesystem questions asked in several places. */
import { lstat } from 'node:fs/promises';

/** Whether anything (a file, a directory, a symlink, even a dangling one) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
