/** What changed between two snapshots; a changed text file opens side by side. */
import { useEffect, useState } from 'preact/hooks';
import { type DiffItem, getJson, query, type SnapshotInfo, streamNdjson } from '../api';
import { time } from '../format';
import { go, href } from '../route';
import { SideBySide } from '../parts/side-by-side';
import { useLoad } from '../parts/use-load';

const LABEL: Record<DiffItem['change'], string> = { '+': 'added', '-': 'removed', M: 'modified', U: 'metadata', T: 'type changed' };

export function Diff({ params }: { params: URLSearchParams }) {
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const file = params.get('file') ?? '';
  const [snaps] = useLoad(() => getJson<SnapshotInfo[]>('/api/snapshots'), []);
  const [items, setItems] = useState<DiffItem[]>([]);
  const [status, setStatus] = useState('');
  useEffect(() => {
    setItems([]);
    if (from === '' || to === '') return;
    const abort = new AbortController();
    const found: DiffItem[] = [];
    setStatus('comparing…');
    streamNdjson<DiffItem>(`/api/diff?${query({ from, to })}`, (d) => found.push(d), abort.signal).then(
      () => {
        setItems(found);
        setStatus(`${found.length} change${found.length === 1 ? '' : 's'}`);
      },
      (err: unknown) => !abort.signal.aborted && setStatus(err instanceof Error ? err.message : String(err)),
    );
    return () => abort.abort();
  }, [from, to]);
  const list = snaps.state === 'ok' ? snaps.value : [];
  const picker = (name: 'from' | 'to', value: string) => (
    <label>
      {name}{' '}
      <select name={name} value={value} onChange={(e) => go('diff', { from, to, [name]: (e.target as HTMLSelectElement).value })}>
        <option value="">choose…</option>
        {list.map((s) => (
          <option value={s.id}>
            {s.short_id} {time(s.time)} {s.host}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <section>
      <h2>Diff</h2>
      <div class="filters">
        {picker('from', from)}
        {picker('to', to)}
        <span class="muted status">{status}</span>
      </div>
      {file !== '' && (
        <section class="compare">
          <h3>{file}</h3>
          <SideBySide from={from} to={to} path={file} />
        </section>
      )}
      <table class="list changes">
        <thead>
          <tr>
            <th>change</th>
            <th>path</th>
            <th>what</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={`${d.change}${d.path}`} class={`change-${LABEL[d.change].replace(' ', '-')}`}>
              <td>{LABEL[d.change]}</td>
              <td class="name">
                {d.change === 'M' && d.type === 'file' ? (
                  <a href={href('diff', { from, to, file: d.path })}>{d.path}</a>
                ) : d.change === '-' ? (
                  <a href={d.type === 'dir' ? href('browse', { snapshot: from, path: d.path }) : href('file', { snapshot: from, path: d.path })}>{d.path}</a>
                ) : (
                  <a href={d.type === 'dir' ? href('browse', { snapshot: to, path: d.path }) : href('file', { snapshot: to, path: d.path })}>{d.path}</a>
                )}
              </td>
              <td>{d.what?.join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
