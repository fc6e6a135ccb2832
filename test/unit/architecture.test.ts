/**
 * Dependencies point down. LAYERS says which top-level units of src/ (a folder, or a file at the top such
 * as errors.ts) each unit may import; every relative import of every .ts file of src/ is checked against
 * it, and the graph of units must have no cycle. Library code never touches the process's terminal.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const srcRoot = fileURLToPath(new URL('../../../src/', import.meta.url));

const BOTTOM = ['errors', 'entry', 'bytes', 'threads', 'files'] as const;
const PIPELINE = ['source', 'transform', 'container', 'filter', 'sink', 'mysql', ...BOTTOM] as const;

/** Unit → the units it may import (importing itself is always allowed). Nothing may import cli. */
const LAYERS: Record<string, readonly string[]> = {
  errors: [],
  entry: ['errors'],
  bytes: ['errors'],
  /** Worker-thread plumbing every layer's wrappers of a thread share (requests, failure of waiting requests). */
  threads: [],
  /** Filesystem helpers every layer shares: partial files published whole, existence checks. */
  files: [],
  /** The mysql2 connection, shared by the dump (source/mysql) and the load (sink/mysql). */
  mysql: ['errors'],
  /** Codecs: compression, encryption, checksums of byte streams. */
  transform: [...BOTTOM],
  filter: [...BOTTOM],
  /** Formats; an xbstream member may carry transform's layers (`decoded-events.ts` removes them). */
  container: ['transform', ...BOTTOM],
  source: ['container', 'transform', 'filter', 'mysql', ...BOTTOM],
  sink: ['container', 'transform', 'filter', 'mysql', ...BOTTOM],
  /** Above the pipeline: a snapshot reads like a source, a restore writes through the directory sink. */
  repo: [...PIPELINE],
  physical: [...PIPELINE],
  /** Jobs: one function per thing a user does (back up a stream, snapshot, restore, dump, ...), put together from the layers below. */
  jobs: [...PIPELINE, 'repo', 'physical'],
  /** The web UI's HTTP server and JSON API: calls the jobs and the repository, serves the built front end. */
  ui: [...PIPELINE, 'repo', 'physical', 'jobs'],
  /** The library's public entry point. */
  index: [...PIPELINE, 'repo', 'physical', 'jobs'],
  /** Parses flags, calls one job, prints. */
  cli: [...PIPELINE, 'repo', 'physical', 'jobs', 'ui', 'index'],
};

/**
 * Inside repo/: unit (a folder or a file directly under repo/) → the repo units it may import. Below
 * repository.ts are the pieces it is made of; above it (lock, snapshot, maintenance) what works on an open one.
 */
const REPO_BELOW = ['format', 'util', 'cache', 'storage', 'crypto', 'workers', 'content', 'config', 'keys'] as const;
const REPO_LAYERS: Record<string, readonly string[]> = {
  format: [],
  util: [],
  cache: [],
  storage: ['format', 'util'],
  crypto: ['format'],
  workers: ['crypto', 'format', 'util'],
  content: ['workers', 'crypto', 'storage', 'cache', 'format', 'util'],
  config: ['content', 'format'],
  keys: ['crypto', 'storage', 'format'],
  repository: [...REPO_BELOW],
  lock: [...REPO_BELOW, 'repository'],
  snapshot: [...REPO_BELOW, 'repository', 'lock'],
  maintenance: [...REPO_BELOW, 'repository', 'lock', 'snapshot'],
  /** Questions over snapshot trees (find, history), answered from the cache where it can. */
  query: [...REPO_BELOW, 'repository', 'snapshot'],
};

/**
 * A command only parses flags, calls one library function and prints: files in cli/commands/ may import
 * (values and types) only from these paths under src/ (a folder ends in `/`), besides node: and npm packages.
 */
const COMMANDS_DIR = 'cli/commands/';
const COMMAND_IMPORTS: readonly string[] = ['jobs/', 'index.ts', 'ui/index.ts', 'errors.ts', 'cli/'];

/**
 * Imports that break a table but stay for now, each with its reason: `from` file and `to` file as paths
 * under src/ (`.ts`). Keep this list short; an entry is debt.
 */
const EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [];

type Kind = 'import' | 'export from' | 'import()' | 'worker URL';

interface Edge {
  file: string;
  kind: Kind;
  specifier: string;
  target: string;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(full)));
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** The text with comments blanked out (strings kept, so the specifiers survive and `//` in a string is not a comment). */
function withoutComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const PATTERNS: readonly [Kind, RegExp][] = [
  ['import', /(?:^|[;}\s])import\s+(?:type\s+)?[\w$*{}\s,]+?\s+from\s*(['"])(.+?)\1/g],
  ['import', /(?:^|[;}\s])import\s*(['"])(.+?)\1/g],
  ['export from', /(?:^|[;}\s])export\s+(?:type\s+)?[\w$*{}\s,]+?\s+from\s*(['"])(.+?)\1/g],
  ['import()', /\bimport\s*\(\s*(['"])(.+?)\1\s*\)/g],
  // a module URL (a worker's script); a URL of a data folder such as the built web page is not an import
  ['worker URL', /\bnew\s+URL\s*\(\s*(['"])(.+?\.[cm]?[jt]s)\1\s*,\s*import\.meta\.url/g],
];

function importsOf(file: string, text: string): Edge[] {
  const code = withoutComments(text);
  const edges: Edge[] = [];
  for (const [kind, re] of PATTERNS) {
    for (const m of code.matchAll(re)) {
      const specifier = m[2] ?? '';
      if (!specifier.startsWith('.')) continue;
      edges.push({ file, kind, specifier, target: relative(srcRoot, resolve(srcRoot, dirname(file), specifier)).split(sep).join('/') });
    }
  }
  return edges;
}

/** `repo/content/chunker.ts` → `repo`; `errors.ts` → `errors`. */
function unitOf(path: string): string {
  const slash = path.indexOf('/');
  return slash === -1 ? path.replace(/\.[cm]?[jt]s$/, '') : path.slice(0, slash);
}

/** `repo/content/chunker.ts` → `content`; `repo/lock.ts` → `lock`; outside repo/: undefined. */
function repoUnitOf(path: string): string | undefined {
  return path.startsWith('repo/') ? unitOf(path.slice('repo/'.length)) : undefined;
}

interface Level {
  name: string;
  table: Record<string, readonly string[]>;
  unit: (path: string) => string | undefined;
}

const LEVELS: readonly Level[] = [
  { name: 'src/', table: LAYERS, unit: unitOf },
  { name: 'src/repo/', table: REPO_LAYERS, unit: repoUnitOf },
];

function isException(e: Edge): boolean {
  return EXCEPTIONS.some((x) => x.from === e.file && x.to === e.target.replace(/\.js$/, '.ts'));
}

function brokenRules(level: Level, files: readonly string[], edges: readonly Edge[]): string[] {
  const broken: string[] = [];
  for (const file of files) {
    const unit = level.unit(file);
    if (unit !== undefined && !(unit in level.table)) broken.push(`${file}: '${unit}' is not in the ${level.name} layer table (add it in test/unit/architecture.test.ts)`);
  }
  for (const e of edges) {
    const from = level.unit(e.file);
    const to = level.unit(e.target);
    if (from === undefined || to === undefined || from === to || !(from in level.table) || isException(e)) continue;
    const allowed = level.table[from] ?? [];
    if (to === 'cli') broken.push(`${describe(e)}: nothing imports cli/`);
    else if (!allowed.includes(to)) broken.push(`${describe(e)}: in ${level.name}, ${from} may import only ${allowed.join(', ') || 'nothing'}, not ${to}`);
  }
  return broken;
}

/** The graph of units that the imports draw (the listed exceptions left out: they are known debt). */
function unitGraph(level: Level, edges: readonly Edge[]): { graph: Map<string, Set<string>>; example: Map<string, Edge> } {
  const graph = new Map<string, Set<string>>();
  const example = new Map<string, Edge>();
  for (const e of edges) {
    const from = level.unit(e.file);
    const to = level.unit(e.target);
    if (from === undefined || to === undefined || from === to || isException(e)) continue;
    let deps = graph.get(from);
    if (deps === undefined) graph.set(from, (deps = new Set()));
    deps.add(to);
    if (!example.has(`${from} ${to}`)) example.set(`${from} ${to}`, e);
  }
  return { graph, example };
}

async function allEdges(): Promise<{ files: string[]; edges: Edge[] }> {
  const files = (await sourceFiles(srcRoot)).map((f) => relative(srcRoot, f).split(sep).join('/'));
  const edges: Edge[] = [];
  for (const file of files) edges.push(...importsOf(file, await readFile(join(srcRoot, file), 'utf8')));
  return { files, edges };
}

function describe(e: Edge): string {
  return `${e.file}: ${e.kind} '${e.specifier}' (${e.target})`;
}

/** A cycle in `graph`, as the list of its nodes (first = last), or undefined. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...path.slice(path.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found !== undefined) return found;
      }
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

for (const level of LEVELS) {
  test(`the ${level.name} layer table has no cycle and names only its own units`, () => {
    const graph = new Map(Object.entries(level.table).map(([unit, deps]) => [unit, new Set(deps)]));
    for (const [unit, deps] of graph) for (const d of deps) assert.ok(d in level.table, `${unit} may import ${d}, which is not in the table`);
    const cycle = findCycle(graph);
    if (cycle !== undefined) assert.fail(`the ${level.name} layer table has a cycle: ${cycle.join(' → ')}`);
  });

  test(`every import in ${level.name} follows its layer table`, async () => {
    const { files, edges } = await allEdges();
    const broken = brokenRules(level, files, edges);
    if (broken.length > 0) assert.fail(`layer rules broken:\n${broken.join('\n')}`);
  });

  test(`the units of ${level.name} import each other without a cycle`, async () => {
    const { edges } = await allEdges();
    const { graph, example } = unitGraph(level, edges);
    const cycle = findCycle(graph);
    if (cycle === undefined) return;
    const steps = cycle.slice(1).map((to, i) => {
      const e = example.get(`${cycle[i]} ${to}`);
      return `  ${cycle[i]} → ${to}: ${e === undefined ? '?' : describe(e)}`;
    });
    assert.fail(`import cycle between the units of ${level.name}:\n${steps.join('\n')}`);
  });
}

/** The imports of cli/commands/ files that reach outside COMMAND_IMPORTS (the listed exceptions left out). */
function commandLeaks(edges: readonly Edge[]): string[] {
  const leaks: string[] = [];
  for (const e of edges) {
    if (!e.file.startsWith(COMMANDS_DIR) || isException(e)) continue;
    const target = e.target.replace(/\.js$/, '.ts');
    if (!COMMAND_IMPORTS.some((allowed) => (allowed.endsWith('/') ? target.startsWith(allowed) : target === allowed))) {
      leaks.push(`${describe(e)}: a command imports only from ${COMMAND_IMPORTS.join(', ')} (move the work into a job)`);
    }
  }
  return leaks;
}

test('commands import only the jobs, the library entry point, the UI server, errors and the CLI itself', async () => {
  const { files, edges } = await allEdges();
  assert.ok(files.filter((f) => f.startsWith(COMMANDS_DIR)).length > 20, 'found almost no command files: the scan is broken');
  const leaks = commandLeaks(edges);
  if (leaks.length > 0) assert.fail(`commands reaching below the jobs:\n${leaks.join('\n')}`);
});

test('the command rule catches a value import, a type import and a lazy import from below the jobs', () => {
  const text = [
    "import { Meter } from '../../filter/meter.js';",
    "import type { TreeNode } from '../../repo/snapshot/tree.js';",
    "const m = await import('../../source/mariabackup.js');",
    "import { snapshot } from '../../jobs/repository/snapshot.js';",
    "import { UsageError } from '../../errors.js';",
    "import { info } from '../log.js';",
    "import { startUiServer } from '../../ui/index.js';",
  ].join('\n');
  const leaked = commandLeaks(importsOf('cli/commands/x.ts', text)).map((l) => /\(([^)]+)\)/.exec(l)?.[1]);
  assert.deepEqual(leaked.sort(), ['filter/meter.js', 'repo/snapshot/tree.js', 'source/mariabackup.js']);
});

test('the scan sees the whole tree, and every exception is still needed', async () => {
  const { files, edges } = await allEdges();
  assert.ok(files.length > 100 && edges.length > 300, `found only ${files.length} files and ${edges.length} imports: the scan is broken`);
  for (const e of edges) assert.ok(!e.target.startsWith('..'), `${describe(e)}: imports from outside src/`);
  for (const x of EXCEPTIONS) {
    assert.ok(edges.some((e) => e.file === x.from && e.target.replace(/\.js$/, '.ts') === x.to), `exception ${x.from} → ${x.to} is no longer needed: remove it`);
  }
});

test('the scanner finds every kind of import and skips comments', () => {
  const text = [
    "import a from './a.js';",
    "import type { B, C as D } from '../b.js';",
    "import {\n  e,\n  type F,\n} from './e.js';",
    "import './side.js';",
    "export * from './star.js';",
    "export { g } from './g.js';",
    "const h = await import('./h.js');",
    "const w = new URL('./worker.js', import.meta.url);",
    "// import x from './commented.js';",
    "/* import('./block.js') */",
    "const s = 'http://example/x'; import i from './i.js';",
    "const from = { from: 'x' };",
  ].join('\n');
  const found = importsOf('repo/x.ts', text).map((e) => `${e.kind} ${e.target}`);
  assert.deepEqual(found.sort(), [
    'export from repo/g.js',
    'export from repo/star.js',
    'import b.js',
    'import repo/a.js',
    'import repo/e.js',
    'import repo/i.js',
    'import repo/side.js',
    'import() repo/h.js',
    'worker URL repo/worker.js',
  ]);
});

test('library code never touches argv, stdout, stderr, exit or env', async () => {
  const offenders: string[] = [];
  for (const file of await sourceFiles(srcRoot)) {
    const rel = relative(srcRoot, file);
    if (rel.startsWith(`cli${sep}`)) continue;
    const m = /process\.(argv|stdout|stderr|exit|env)\b/.exec(await readFile(file, 'utf8'));
    if (m !== null) offenders.push(`${rel}: uses process.${m[1]}`);
  }
  assert.deepEqual(offenders, []);
});
