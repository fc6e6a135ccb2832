/** Builds directory trees from a literal description, and describes trees so two can be compared. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export type TreeSpec = Record<string, string | Uint8Array | { symlink: string } | { dir: true }>;

export async function makeTree(root: string, spec: TreeSpec): Promise<void> {
  for (const [path, what] of Object.entries(spec)) {
    const full = join(root, path);
    if (typeof what === 'object' && 'dir' in what) {
      await mkdir(full, { recursive: true });
      continue;
    }
    await mkdir(dirname(full), { recursive: true });
    if (typeof what === 'object' && 'symlink' in what) await symlink(what.symlink, full);
    else await writeFile(full, what);
  }
}

export interface TreeItem {
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  size?: number;
  sha256?: string;
  target?: string;
}

/** Every item below root (root itself excluded), sorted by path; files carry their SHA-256. */
export async function describeTree(root: string, opts: { skip?: (path: string) => boolean } = {}): Promise<TreeItem[]> {
  const items: TreeItem[] = [];
  async function walk(dir: string, prefix: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      if (opts.skip?.(rel) === true) continue;
      const full = join(dir, name);
      const st = await lstat(full);
      if (st.isSymbolicLink()) items.push({ path: rel, kind: 'symlink', target: await readlink(full) });
      else if (st.isDirectory()) {
        items.push({ path: rel, kind: 'dir' });
        await walk(full, rel);
      } else items.push({ path: rel, kind: 'file', size: st.size, sha256: await sha256File(full) });
    }
  }
  await walk(root, '');
  return items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift), so tests are repeatable without fixtures. */
export function pseudoRandomBytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
