/** Dependencies point down: nothing below src/cli/ imports the CLI or touches the process's terminal. */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const srcRoot = fileURLToPath(new URL('../../../src/', import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(full)));
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

test('library code never imports src/cli or touches argv, stdout, stderr, exit or env', async () => {
  const offenders: string[] = [];
  for (const file of await sourceFiles(srcRoot)) {
    const rel = relative(srcRoot, file);
    if (rel.startsWith('cli/')) continue;
    const text = await readFile(file, 'utf8');
    if (/from\s+['"][./]*cli\//.test(text)) offenders.push(`${rel}: imports src/cli`);
    const m = /process\.(argv|stdout|stderr|exit|env)\b/.exec(text);
    if (m !== null) offenders.push(`${rel}: uses process.${m[1]}`);
  }
  assert.deepEqual(offenders, []);
});
