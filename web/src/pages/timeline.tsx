/** Snapshots, newest first, filtered by tag and host. */
import { useState } from 'preact/hooks';
import { getJson, type SnapshotInfo } from '../api';
import { bytes, time } from '../format';
import { href } from '../route';
import { useLoad } from '../parts/use-load';
import { VirtualTable } from '../parts/virtual-rows';

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
      <VirtualTable
        class="timeline"
        columns={8}
        count={shown.length}
        head={
          <tr>
            <th class="time">time</th>
            <th class="id">id</th>
            <th class="host">host</th>
            <th class="tags">tags</th>
            <th class="num size">size</th>
            <th class="num added">added</th>
            <th class="paths">paths and streams</th>
            <th class="diff" />
          </tr>
        }
        row={(i) => {
          const s = shown[i] as SnapshotInfo;
          const older = shown[i + 1];
          return (
            <tr key={s.id} class="row" data-snapshot={s.id}>
              <td>{time(s.time)}</td>
              <td>
                <a class="snapshot-link" href={href('browse', { snapshot: s.id })}>
                  {s.short_id}
                </a>
              </td>
              <td>{s.host}</td>
              <td title={s.tags.join(', ')}>
                {s.tags.map((t) => (
                  <span class="tag">{t}</span>
                ))}
              </td>
              <td class="num">{bytes(s.summary.bytes)}</td>
              <td class="num">{bytes(s.summary.newBytes)}</td>
              <td class="paths" title={[...s.paths, ...s.streams.map((p) => `${p} (stream)`)].join('\n')}>
                {s.paths.map((p) => (
                  <span class="path">{p}</span>
                ))}
                {s.streams.map((p) => (
                  <span class="path">
                    <a href={href('file', { snapshot: s.id, path: `/${p}` })}>{p}</a> <span class="muted">(stream)</span>
                  </span>
                ))}
              </td>
              <td>{older !== undefined && <a href={href('diff', { from: older.id, to: s.id })}>diff with previous</a>}</td>
            </tr>
          );
        }}
      />
    </section>
  );
}
