/** Shared pieces of the repository tests: a throwaway repository and the CLI pointed at it. */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Repository } from '../../src/repo/repository.js';
import type { ObjectStore } from '../../src/repo/storage/object-store.js';
import { type RunOptions, type RunResult, runSluice, sh } from '../helpers/cli.js';
import { type TestContextLike, tempDir } from '../helpers/tmp.js';

/** Cheap scrypt parameters: tests never pay for the real KDF (the defaults stay strong). */
export const TEST_KDF = 'N=1024,r=8,p=1';
export const TEST_PASSWORD = 'correct horse battery staple';

export interface TestRepo {
  dir: string;
  repo: string;
  passwordFile: string;
  env: Record<string, string>;
  run(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  sh(script: string, opts?: RunOptions): Promise<RunResult>;
}

export async function testRepo(t: TestContextLike, init = true): Promise<TestRepo> {
  const dir = await tempDir(t, 'sluice-repo-');
  const repo = join(dir, 'repo');
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, `${TEST_PASSWORD}\n`);
  const env = {
    SLUICE_REPO: repo,
    SLUICE_PASSWORD_FILE: passwordFile,
    SLUICE_KDF: TEST_KDF,
    SLUICE_CACHE_DIR: join(dir, 'cache'),
    SLUICE_PASSWORD: '',
  };
  const self: TestRepo = {
    dir,
    repo,
    passwordFile,
    env,
    run: (args, opts = {}) => runSluice(args, { ...opts, env: { ...env, ...opts.env } }),
    sh: (script, opts = {}) => sh(script, { ...opts, env: { ...env, ...opts.env } }),
  };
  if (init) {
    const r = await self.run(['init']);
    if (r.status !== 0) throw new Error(`init failed: ${r.stderr}`);
  }
  return self;
}

export function client(now = () => new Date()) {
  return { host: 'test-host', user: 'tester', now };
}

/** Small chunks (16/64/256 KiB) so small test data spans many chunks and packs. */
export const SMALL_CHUNKS = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 };

/** Deterministic "random" bytes, so repositories made with the same seed have the same keys. */
export function seededRandom(seed: number): (n: number) => Buffer {
  let counter = 0;
  return (n) => {
    const out = Buffer.alloc(n);
    for (let at = 0; at < n; at += 32) createHash('sha256').update(`${seed}:${counter++}`).digest().copy(out, at);
    return out;
  };
}

export async function memoryRepo(store: ObjectStore, options: { packSize?: number; chunker?: typeof SMALL_CHUNKS; seed?: number } = {}): Promise<Repository> {
  const { seed, ...rest } = options;
  return Repository.init(store, TEST_PASSWORD, {
    ...client(),
    kdf: { N: 1024, r: 8, p: 1 },
    chunker: SMALL_CHUNKS,
    random: seededRandom(seed ?? 1),
    ...rest,
  });
}

export function json<T = unknown>(r: RunResult): T {
  return JSON.parse(r.stdout.toString('utf8')) as T;
}
