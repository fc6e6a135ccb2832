/** One directory of a snapshot: breadcrumbs, sortable columns, metadata, download as tar. */
import { useMemo, useState } from 'preact/hooks';
import { downloadUrl, getJson, type NodeInfo, query, type TreeListing } from '../api';
import { bytes, mode, owner, time } from '../format';
import { href } from '../route';
import { useLoad } from '../parts/use-load';
import { VirtualTable } from '../parts/virtual-rows';

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
  const listed = loaded.state === 'ok' ? loaded.value.entries : undefined;
  const entries = useMemo(() => (listed === undefined ? [] : [...listed].sort((a, b) => (sort.down ? -1 : 1) * compare(a, b, sort.key))), [listed, sort.key, sort.down]);
  if (loaded.state === 'loading') return <p class="muted">loading…</p>;
  if (loaded.state === 'error') return <p class="error">{loaded.error}</p>;
  const t = loaded.value;
  const header = (key: SortKey, label: string, cls = '') => (
    <th class={`sortable ${cls}`} data-sort={key} aria-sort={sort.key === key ? (sort.down ? 'descending' : 'ascending') : 'none'} onClick={() => setSort({ key, down: sort.key === key ? !sort.down : false })}>
      {label}
      {sort.key === key ? (sort.down ? ' ▼' : ' ▲') : ''}
    </th>
  );
  const row = (i: number) => {
    const n = entries[i] as NodeInfo;
    return (
      <tr key={n.name} class="row" data-name={n.name}>
        <td class="name" title={n.target === undefined ? n.name : `${n.name} → ${n.target}`}>
          <a href={entryLink(t.snapshot.id, n)}>
            {n.name}
            {n.kind === 'dir' ? '/' : ''}
          </a>
          {n.target !== undefined && <span class="muted"> → {n.target}</span>}
        </td>
        <td class="kind">{n.kind}</td>
        <td class="num size">{bytes(n.size)}</td>
        <td class="mono mode">{mode(n.type, n.mode)}</td>
        <td class="mono owner">{owner(n.uid, n.gid)}</td>
        <td class="mtime">{time(n.mtime)}</td>
      </tr>
    );
  };
  return (
    <section>
      <h2>Browse</h2>
      <Breadcrumbs snapshot={t.snapshot.id} path={t.path} />
      <p class="muted">
        snapshot {t.snapshot.short_id} of {t.snapshot.host}, {time(t.snapshot.time)} · <span class="count">{entries.length} entries</span> ·{' '}
        <a class="button" href={downloadUrl(t.snapshot.id, t.path)} download>
          download {t.path === '/' ? 'snapshot' : 'directory'} as tar
        </a>
      </p>
      <VirtualTable
        class="browser"
        columns={6}
        count={entries.length}
        row={row}
        head={
          <tr>
            {header('name', 'name', 'name')}
            {header('kind', 'kind', 'kind')}
            {header('size', 'size', 'num size')}
            <th class="mode">mode</th>
            <th class="owner">owner</th>
            {header('mtime', 'modified', 'mtime')}
          </tr>
        }
      />
    </section>
  );
}
