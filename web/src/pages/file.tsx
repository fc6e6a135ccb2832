/** One file or stream: metadata, how a stream was produced, a preview, download and history links. */
import { downloadUrl, getJson, type NodeInfo, query, type SnapshotInfo } from '../api';
import { bytes, mode, owner, time } from '../format';
import { href } from '../route';
import { Preview } from '../parts/preview';
import { useLoad } from '../parts/use-load';
import { Breadcrumbs } from './browser';

export function FileView({ snapshot, path }: { snapshot: string; path: string }) {
  const [loaded] = useLoad(() => getJson<NodeInfo & { snapshot: SnapshotInfo }>(`/api/node?${query({ snapshot, path })}`), [snapshot, path]);
  if (loaded.state === 'loading') return <p class="muted">loading…</p>;
  if (loaded.state === 'error') return <p class="error">{loaded.error}</p>;
  const n = loaded.value;
  const s = n.stream;
  return (
    <section>
      <h2 class="file-name">{n.name}</h2>
      <Breadcrumbs snapshot={n.snapshot.id} path={n.path} />
      <div class="actions">
        {n.type === 'file' && (
          <a class="button download" href={downloadUrl(n.snapshot.id, n.path)} download={n.name}>
            download
          </a>
        )}
        <a class="button" href={href('history', { path: n.path })}>
          history
        </a>
      </div>
      <table class="meta">
        <tbody>
          <tr><th>kind</th><td>{n.kind}</td></tr>
          {n.size !== undefined && <tr><th>size</th><td>{bytes(n.size)} ({n.size} bytes)</td></tr>}
          <tr><th>mode</th><td class="mono">{mode(n.type, n.mode)}</td></tr>
          {owner(n.uid, n.gid) !== '' && <tr><th>owner</th><td class="mono">{owner(n.uid, n.gid)}</td></tr>}
          <tr><th>modified</th><td>{time(n.mtime)}</td></tr>
          {n.sha256 !== undefined && <tr><th>SHA-256</th><td class="mono digest">{n.sha256}</td></tr>}
          {n.chunks !== undefined && <tr><th>chunks</th><td>{n.chunks}</td></tr>}
          {n.chunk_lists !== undefined && <tr><th>chunk lists</th><td>{n.chunk_lists}</td></tr>}
          {n.target !== undefined && <tr><th>target</th><td>{n.target}</td></tr>}
        </tbody>
      </table>
      {s !== undefined && (
        <section class="stream">
          <h3>Stream</h3>
          <table class="meta">
            <tbody>
              <tr><th>source</th><td>{s.source}</td></tr>
              {s.command !== undefined && <tr><th>command</th><td class="mono command">{s.command.join(' ')}</td></tr>}
              {s.exitCode !== undefined && <tr><th>exit status</th><td class={s.exitCode === 0 ? 'ok' : 'error'}>{s.exitCode}</td></tr>}
              {s.signal !== undefined && <tr><th>signal</th><td class="error">{s.signal}</td></tr>}
            </tbody>
          </table>
          {s.stderrTail !== undefined && s.stderrTail !== '' && (
            <>
              <h4>stderr (last part)</h4>
              <pre class="stderr">{s.stderrTail}</pre>
            </>
          )}
        </section>
      )}
      {n.type === 'file' && <Preview snapshot={n.snapshot.id} path={n.path} />}
    </section>
  );
}
