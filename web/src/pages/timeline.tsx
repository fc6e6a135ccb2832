/** Snapshots, newest first, filtered by tag and host. */
import { useState } from 'preact/hooks';
import { getJson, type SnapshotInfo } from '../api';
import { bytes, time } from '../format';
import { href } from '../route';
import { useLoad } from '../parts/use-load';

export function Timeline() {
  const [loaded] = useLoad(() => getJson<SnapshotInfo[]>('/api/snapshots'), []);
  const [tag, setTag] = useState('');
  const [host, setHost] = useState('');
  if (loaded.state === 'loading') return <p class="muted">loading snapshots…</p>;
  if (loaded.state === 'error') return <p class="error">{loaded.error}</p>;
  const all = loaded.value;
  const tags = [...new Set(all.flatMap((s) => s.tags))].sort();
  const hosts = [...new Set(all.map((s) => s.host))].sort();
  const shown = all.filter((s) => (tag === '' || s.tags.includes(tag)) && (host === '' || s.host === host));
  return (
    <section>
      <h2>Timeline</h2>
      <div class="filters">
        <label>
          host{' '}
          <select name="host" value={host} onChange={(e) => setHost((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {hosts.map((h) => (
              <option value={h}>{h}</option>
            ))}
          </select>
        </label>
        <label>
          tag{' '}
          <select name="tag" value={tag} onChange={(e) => setTag((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {tags.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
        <span class="muted">
          {shown.length} of {all.length} snapshots
        </span>
      </div>
      <table class="list timeline">
        <thead>
          <tr>
            <th>time</th>
            <th>id</th>
            <th>host</th>
            <th>tags</th>
            <th class="num">size</th>
            <th class="num">added</th>
            <th>paths and streams</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {shown.map((s, i) => {
            const older = shown[i + 1];
            return (
              <tr key={s.id} data-snapshot={s.id}>
                <td>{time(s.time)}</td>
                <td>
                  <a class="snapshot-link" href={href('browse', { snapshot: s.id })}>
                    {s.short_id}
                  </a>
                </td>
                <td>{s.host}</td>
                <td>
                  {s.tags.map((t) => (
                    <span class="tag">{t}</span>
                  ))}
                </td>
                <td class="num">{bytes(s.summary.bytes)}</td>
                <td class="num">{bytes(s.summary.newBytes)}</td>
                <td class="paths">
                  {s.paths.map((p) => (
                    <div>{p}</div>
                  ))}
                  {s.streams.map((p) => (
                    <div>
                      <a href={href('file', { snapshot: s.id, path: `/${p}` })}>{p}</a> <span class="muted">(stream)</span>
                    </div>
                  ))}
                </td>
                <td>{older !== undefined && <a href={href('diff', { from: older.id, to: s.id })}>diff with previous</a>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
