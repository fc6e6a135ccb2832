/**
 * `npm run bench -- NAME [options]`: runs one benchmark from dist/bench (after `npm run build`);
 * with no name, lists them. Each prints its own figures and ratios against the peers.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benchmarks: Record<string, { file: string; what: string }> = {
  stream: { file: 'stream/create-extract.js', what: 'issue #2: backup --stream and xbstream -x vs mbstream and tar' },
  compress: { file: 'transform/compress.js', what: 'issue #3: compression and encryption vs tar|zstd, tar|lz4, age' },
  repo: { file: 'repo/ingest.js', what: 'issue #4: repository backup and restore vs restic and borg' },
  'repo-index': { file: 'repo/index-memory.js', what: 'issue #4: index memory per million blobs (needs --expose-gc)' },
  'repo-mixed': { file: 'repo/mixed-stream.js', what: 'issue #4: deduplication of a stream with shifted content' },
  mysql: { file: 'mysql/dump-load.js', what: 'issue #5: dump and load vs mydumper/myloader and mysqldump' },
  'real-data': { file: 'real-data/build.js', what: 'issue #14: build (once) the real MariaDB data set: --dir DIR [--size MB]' },
  'issue-14': { file: 'real-data/issue-table.js', what: "issue #14: every row of the issue's table: --real DIR | --synthetic DIR" },
  ui: { file: 'ui/timeline.js', what: 'issue #13: sluice ui with 1,000 snapshots and a 10,000-entry directory (API and chromium)' },
  startup: { file: 'startup/startup.js', what: 'issue #14: start-up time of --version, --help, snapshots, a one-file backup: [--before OLD/dist/src/cli/main.js]' },
  'compress-real': { file: 'transform/real-data.js', what: 'issue #3/#14: compressed backups of a real datadir: --real DIR | --tree DIR' },
};

const [name, ...rest] = process.argv.slice(2);
const chosen = name === undefined ? undefined : benchmarks[name];
if (chosen === undefined) {
  console.log('usage: npm run bench -- NAME [options]\n');
  for (const [key, { what }] of Object.entries(benchmarks)) console.log(`  ${key.padEnd(11)} ${what}`);
  process.exit(name === undefined ? 0 : 2);
}
const flags = name === 'repo-index' ? ['--expose-gc'] : [];
const script = fileURLToPath(new URL(chosen.file, import.meta.url));
const result = spawnSync(process.execPath, [...flags, script, ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
