/** Temporary directories that clean themselves up after the test. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestContextLike {
  after(fn: () => unknown): void;
}

export async function tempDir(t: TestContextLike, prefix = 'sluice-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
