/** Every version of one path, newest first, with what changed and a side-by-side view against the older one. */
import { useEffect, useState } from 'preact/hooks';
import { downloadUrl, type Match, query, streamNdjson } from '../api';
import { bytes, time } from '../format';
import { go, href } from '../route';

const CHANGE: Record<string, string> = { added: 'appeared', changed: 'content changed', metadata: 'metadata changed', unchanged: 'unchanged' };

export function History({ params }: { params: URLSearchParams }) {
  const path = params.get('path') ?? '';
  const [input, setInput] = useState(path);
  const [versions, setVersions] = useState<Match[]>([]);
  const [status, setStatus] = useState('');
  useEffect(() => {
    setInput(path);
    setVersions([]);
    if (path === '') return;
    const abort = new AbortController();
    const found: Match[] = [];
    setStatus('reading snapshots…');
    streamNdjson<Match>(`/api/history?${query({ path })}`, (v) => found.push(v), abort.signal).then(
      () => {
        setVersions(found);
        setStatus(`${found.length} version${found.length === 1 ? '' : 's'}`);
      },
      (err: unknown) => !abort.signal.aborted && setStatus(err instanceof Error ? err.message : String(err)),
    );
    return () => abort.abort();
  }, [path]);
  return (
    <section>
      <h2>History</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          go('history', { path: input });
        }}
      >
        <label>
          path <input name="path" size={60} value={input} placeholder="/etc/nginx/nginx.conf" onInput={(e) => setInput((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">show</button>
      </form>
      <p class="muted status">{status}</p>
      <table class="list versions">
        <thead>
          <tr>
            <th>snapshot</th>
            <th>time</th>
            <th>host</th>
            <th>change</th>
            <th class="num">size</th>
            <th>SHA-256</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {versions.map((v, i) => {
            const older = versions.slice(i + 1).find((o) => o.sha256 !== v.sha256);
            return (
              <tr key={v.snapshot} class={`change-${v.change ?? ''}`}>
                <td>
                  <a href={href('file', { snapshot: v.snapshot, path: v.path })}>{v.short_id}</a>
                </td>
                <td>{time(v.time)}</td>
                <td>{v.host}</td>
                <td>{CHANGE[v.change ?? ''] ?? v.change}</td>
                <td class="num">{bytes(v.size)}</td>
                <td class="mono digest">{v.sha256?.slice(0, 16)}</td>
                <td>
                  {v.type === 'file' && <a href={downloadUrl(v.snapshot, v.path)} download={v.name}>download</a>}{' '}
                  {v.change === 'changed' && older !== undefined && <a href={href('diff', { from: older.snapshot, to: v.snapshot, file: v.path })}>compare with {older.short_id}</a>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
