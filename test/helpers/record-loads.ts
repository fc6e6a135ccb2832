/**
 * Preloaded with `node --import` into a process under test: when the process exits, writes every module it
 * loaded (ES module URLs as the loader saw them, then CommonJS file paths) to the file named by
 * SLUICE_RECORD_LOADS, one per line, and a line `thread:N` for each worker thread it started. For tests
 * that check what a command does not load or start.
 */
import { writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

// Module hooks run on the loader's own thread: it posts each URL it loads back here.
const HOOKS = `let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) { const result = await next(url, context); port.postMessage(url); return result; }`;

const out = process.env.SLUICE_RECORD_LOADS;
if (out !== undefined) {
  const { port1, port2 } = new MessageChannel();
  const urls: string[] = [];
  port1.on('message', (url: string) => urls.push(url));
  port1.unref();
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { port: port2 }, transferList: [port2] });
  const cjs = createRequire(import.meta.url)('node:module') as { _cache: Record<string, unknown> };
  // The first thread is the loader's own, for the hooks above (created first, reported first): not the command's.
  let threads = -1;
  process.on('worker', () => (threads += 1));
  const started = (): string[] => Array.from({ length: threads }, (_, i) => `thread:${i + 1}`);
  process.on('exit', () => writeFileSync(out, [...urls, ...Object.keys(cjs._cache), ...started()].join('\n')));
}
