/** `find` in the browser: globs and filters, results streamed in and linked into the browser. */
import { useEffect, useState } from 'preact/hooks';
import { type Match, query, streamNdjson } from '../api';
import { bytes, time } from '../format';
import { go, href } from '../route';
import { entryLink } from './browser';

const FIELDS = ['q', 'kind', 'host', 'tag', 'newer', 'older', 'path', 'ignoreCase'] as const;

export function Search({ params }: { params: URLSearchParams }) {
  const asked = Object.fromEntries(FIELDS.map((f) => [f, params.get(f) ?? ''])) as Record<(typeof FIELDS)[number], string>;
  const [form, setForm] = useState(asked);
  const [results, setResults] = useState<Match[]>([]);
  const [status, setStatus] = useState('');
  const key = params.toString();
  useEffect(() => {
    setForm(asked);
    if (!params.has('q')) return;
    const abort = new AbortController();
    const found: Match[] = [];
    setResults([]);
    setStatus('searching…');
    let timer: number | undefined;
    streamNdjson<Match>(
      `/api/find?${query({ ...asked, q: asked.q.split(/\s+/).filter((x) => x !== ''), limit: 2000 })}`,
      (m) => {
        found.push(m);
        timer ??= window.setTimeout(() => {
          timer = undefined;
          setResults([...found]);
        }, 50);
      },
      abort.signal,
    ).then(
      () => {
        window.clearTimeout(timer);
        setResults([...found]);
        setStatus(`${found.length} match${found.length === 1 ? '' : 'es'}`);
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setStatus(err instanceof Error ? err.message : String(err));
      },
    );
    return () => abort.abort();
  }, [key]);
  const field = (name: (typeof FIELDS)[number], label: string, placeholder = '') => (
    <label>
      {label}{' '}
      <input name={name} value={form[name]} placeholder={placeholder} onInput={(e) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value })} />
    </label>
  );
  return (
    <section>
      <h2>Search</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          go('search', form);
        }}
      >
        {field('q', 'pattern', '*.sql db*')}
        <label>
          kind{' '}
          <select name="kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: (e.target as HTMLSelectElement).value })}>
            <option value="">any</option>
            <option value="file">file</option>
            <option value="dir">dir</option>
            <option value="symlink">symlink</option>
            <option value="stream">stream</option>
          </select>
        </label>
        {field('host', 'host')}
        {field('tag', 'tag')}
        {field('newer', 'newer than', '7d or 2026-11-01')}
        {field('path', 'under', '/etc')}
        <label>
          <input type="checkbox" name="ignoreCase" checked={form.ignoreCase === '1'} onChange={(e) => setForm({ ...form, ignoreCase: (e.target as HTMLInputElement).checked ? '1' : '' })} /> ignore case
        </label>
        <button type="submit">find</button>
      </form>
      <p class="muted status">{status}</p>
      <table class="list results">
        <thead>
          <tr>
            <th>snapshot</th>
            <th>time</th>
            <th>host</th>
            <th>kind</th>
            <th class="num">size</th>
            <th>path</th>
          </tr>
        </thead>
        <tbody>
          {results.map((m) => (
            <tr key={`${m.snapshot}:${m.path}`}>
              <td>
                <a href={href('browse', { snapshot: m.snapshot })}>{m.short_id}</a>
              </td>
              <td>{time(m.time)}</td>
              <td>{m.host}</td>
              <td>{m.kind}</td>
              <td class="num">{bytes(m.size)}</td>
              <td class="name">
                <a href={entryLink(m.snapshot, m)}>{m.path}</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
