/** One directory of a snapshot: breadcrumbs, sortable columns, metadata, download as tar. */
import { useState } from 'preact/hooks';
import { downloadUrl, getJson, type NodeInfo, query, type TreeListing } from '../api';
import { bytes, mode, owner, time } from '../format';
import { href } from '../route';
import { useLoad } from '../parts/use-load';

type SortKey = 'name' | 'kind' | 'size' | 'mtime';

export function Breadcrumbs({ snapshot, path }: { snapshot: string; path: string }) {
  const parts = path.split('/').filter((p) => p !== '');
  return (
    <nav class="breadcrumbs">
      <a href={href('browse', { snapshot })}>{snapshot.slice(0, 8)}</a>
      {parts.map((part, i) => (
        <>
          <span class="sep">/</span>
          <a href={href('browse', { snapshot, path: `/${parts.slice(0, i + 1).join('/')}` })}>{part}</a>
        </>
      ))}
    </nav>
  );
}

function compare(a: NodeInfo, b: NodeInfo, key: SortKey): number {
  if (key === 'size') return (a.size ?? -1) - (b.size ?? -1);
  if (key === 'mtime') return a.mtime < b.mtime ? -1 : a.mtime > b.mtime ? 1 : 0;
  if (key === 'kind') return a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name);
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function entryLink(snapshot: string, n: { kind: string; path: string }): string {
  return n.kind === 'dir' ? href('browse', { snapshot, path: n.path }) : href('file', { snapshot, path: n.path });
}

export function Browser({ snapshot, path }: { snapshot: string; path: string }) {
  const [loaded] = useLoad(() => getJson<TreeListing>(`/api/tree?${query({ snapshot, path })}`), [snapshot, path]);
  const [sort, setSort] = useState<{ key: SortKey; down: boolean }>({ key: 'name', down: false });
  if (loaded.state === 'loading') return <p class="muted">loading…</p>;
  if (loaded.state === 'error') return <p class="error">{loaded.error}</p>;
  const t = loaded.value;
  const entries = [...t.entries].sort((a, b) => (sort.down ? -1 : 1) * compare(a, b, sort.key));
  const header = (key: SortKey, label: string, cls = '') => (
    <th class={`sortable ${cls}`} data-sort={key} aria-sort={sort.key === key ? (sort.down ? 'descending' : 'ascending') : 'none'} onClick={() => setSort({ key, down: sort.key === key ? !sort.down : false })}>
      {label}
      {sort.key === key ? (sort.down ? ' ▼' : ' ▲') : ''}
    </th>
  );
  return (
    <section>
      <h2>Browse</h2>
      <Breadcrumbs snapshot={t.snapshot.id} path={t.path} />
      <p class="muted">
        snapshot {t.snapshot.short_id} of {t.snapshot.host}, {time(t.snapshot.time)} · {entries.length} entries ·{' '}
        <a class="button" href={downloadUrl(t.snapshot.id, t.path)} download>
          download {t.path === '/' ? 'snapshot' : 'directory'} as tar
        </a>
      </p>
      <table class="list browser">
        <thead>
          <tr>
            {header('name', 'name')}
            {header('kind', 'kind')}
            {header('size', 'size', 'num')}
            <th>mode</th>
            <th>owner</th>
            {header('mtime', 'modified')}
          </tr>
        </thead>
        <tbody>
          {entries.map((n) => (
            <tr key={n.name} data-name={n.name}>
              <td class="name">
                <a href={entryLink(t.snapshot.id, n)}>
                  {n.name}
                  {n.kind === 'dir' ? '/' : ''}
                </a>
                {n.target !== undefined && <span class="muted"> → {n.target}</span>}
              </td>
              <td>{n.kind}</td>
              <td class="num">{bytes(n.size)}</td>
              <td class="mono">{mode(n.type, n.mode)}</td>
              <td class="mono">{owner(n.uid, n.gid)}</td>
              <td>{time(n.mtime)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
