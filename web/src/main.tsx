/** The sluice web UI: a page per fragment route, all data from `sluice ui`'s JSON API. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { startSession } from './api';
import { Browser } from './pages/browser';
import { Check } from './pages/check';
import { Diff } from './pages/diff';
import { FileView } from './pages/file';
import { History } from './pages/history';
import { Search } from './pages/search';
import { Timeline } from './pages/timeline';
import { href, useRoute } from './route';
import './style.css';

const NAV: [string, string][] = [
  ['timeline', 'Timeline'],
  ['search', 'Search'],
  ['history', 'History'],
  ['diff', 'Diff'],
  ['check', 'Check'],
];

function Page() {
  const { page, params } = useRoute();
  const snapshot = params.get('snapshot') ?? '';
  const path = params.get('path') ?? '/';
  return (
    <>
      <header>
        <h1>sluice</h1>
        <nav class="tabs">
          {NAV.map(([id, label]) => (
            <a href={href(id)} class={page === id || (id === 'timeline' && (page === 'browse' || page === 'file')) ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main>
        {page === 'timeline' && <Timeline />}
        {page === 'browse' && <Browser snapshot={snapshot} path={path} />}
        {page === 'file' && <FileView snapshot={snapshot} path={path} />}
        {page === 'search' && <Search params={params} />}
        {page === 'history' && <History params={params} />}
        {page === 'diff' && <Diff params={params} />}
        {page === 'check' && <Check />}
      </main>
    </>
  );
}

const session = startSession();

function App() {
  const [state, setState] = useState<'ok' | 'refused'>(session === undefined ? 'refused' : 'ok');
  useEffect(() => {
    session?.cookie.then(
      (ok) => ok || setState('refused'),
      () => setState('refused'),
    );
  }, []);
  if (state === 'refused') return <p class="error no-token">This page needs the URL that `sluice ui` printed (it carries the access token).</p>;
  return <Page />;
}

render(<App />, document.getElementById('app') as HTMLElement);
