/** The last check's result, the locks held, and a button to run check with its progress. */
import { useEffect, useState } from 'preact/hooks';
import { type CheckState, getJson, postJson, type RepoInfo } from '../api';
import { time } from '../format';
import { useLoad } from '../parts/use-load';

export function Check() {
  const [info, reload] = useLoad(() => getJson<RepoInfo>('/api/repo'), []);
  const [state, setState] = useState<CheckState | undefined>(undefined);
  useEffect(() => {
    if (info.state === 'ok') setState(info.value.check);
  }, [info]);
  useEffect(() => {
    if (state?.running !== true) return;
    const timer = window.setTimeout(async () => {
      const next = await getJson<CheckState>('/api/check');
      setState(next);
      if (!next.running) reload();
    }, 300);
    return () => window.clearTimeout(timer);
  }, [state]);
  if (info.state === 'loading' && state === undefined) return <p class="muted">loading…</p>;
  if (info.state === 'error') return <p class="error">{info.error}</p>;
  const repo = info.state === 'ok' ? info.value : undefined;
  const r = state?.report;
  return (
    <section>
      <h2>Check</h2>
      {repo !== undefined && (
        <p class="muted">
          repository {repo.id.slice(0, 16)} at <span class="mono">{repo.location}</span>
        </p>
      )}
      <button class="run-check" disabled={state?.running === true} onClick={async () => setState(await postJson<CheckState>('/api/check'))}>
        {state?.running === true ? 'checking…' : 'run check'}
      </button>
      <div class="check-state" data-state={state?.running === true ? 'running' : r === undefined ? (state?.error !== undefined ? 'failed' : 'never') : r.ok ? 'ok' : 'problems'}>
        {state?.running === true && <p>running since {time(state.startedAt ?? '')}: {state.progress[state.progress.length - 1]}</p>}
        {state?.error !== undefined && <p class="error">check failed: {state.error}</p>}
        {r !== undefined && state?.running !== true && (
          <>
            <p class={r.ok ? 'ok' : 'error'}>
              {r.ok ? 'no problems found' : `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`} · finished {time(state?.finishedAt ?? '')}
            </p>
            <p class="muted">
              {r.snapshots} snapshots, {r.trees} trees, {r.blobs} blobs, {r.packs} packs, {r.indexObjects} index objects, {r.keys} keys
            </p>
            <ul>
              {r.problems.map((p) => (
                <li class="error">
                  {p.kind}: {p.message}
                </li>
              ))}
              {r.notes.map((n) => (
                <li class="muted">{n}</li>
              ))}
            </ul>
          </>
        )}
        {r === undefined && state?.running !== true && state?.error === undefined && <p class="muted">not checked since this server started</p>}
      </div>
      <h3>Locks</h3>
      {repo !== undefined && repo.locks.length === 0 && <p class="muted locks">no locks held</p>}
      <ul class="locks">
        {repo?.locks.map((l) => (
          <li>
            {l.exclusive ? 'exclusive' : 'shared'} lock by {l.purpose} (pid {l.pid} on {l.host}, {time(l.time)})
          </li>
        ))}
      </ul>
    </section>
  );
}
