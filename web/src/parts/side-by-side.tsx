/**
 * Two versions of a text file side by side, lines not common to both marked. The common lines come from
 * a longest-common-subsequence table over at most MAX_LINES lines of each (previews are short).
 */
import { getJson, type PreviewData, query } from '../api';
import { highlighted, languageOf } from './highlight';
import { useLoad } from './use-load';

const MAX_LINES = 2000;

type Row = { left?: string; right?: string; same: boolean };

export function lineDiff(a: string[], b: string[]): Row[] {
  const n = Math.min(a.length, MAX_LINES);
  const m = Math.min(b.length, MAX_LINES);
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      (lcs[i] as Uint16Array)[j] = a[i] === b[j] ? ((lcs[i + 1] as Uint16Array)[j + 1] as number) + 1 : Math.max((lcs[i + 1] as Uint16Array)[j] as number, (lcs[i] as Uint16Array)[j + 1] as number);
    }
  }
  const rows: Row[] = [];
  // A run of removed and added lines between common ones is shown paired: old line beside new line.
  let lefts: string[] = [];
  let rights: string[] = [];
  const flush = () => {
    for (let k = 0; k < Math.max(lefts.length, rights.length); k++) {
      const row: Row = { same: false };
      if (k < lefts.length) row.left = lefts[k] as string;
      if (k < rights.length) row.right = rights[k] as string;
      rows.push(row);
    }
    lefts = [];
    rights = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      flush();
      rows.push({ left: a[i] as string, right: b[j] as string, same: true });
      i += 1;
      j += 1;
    } else if (i < n && (j >= m || ((lcs[i + 1] as Uint16Array)[j] as number) >= ((lcs[i] as Uint16Array)[j + 1] as number))) {
      lefts.push(a[i] as string);
      i += 1;
    } else {
      rights.push(b[j] as string);
      j += 1;
    }
  }
  flush();
  return rows;
}

function Line({ text, language }: { text: string | undefined; language: string }) {
  if (text === undefined) return <td class="code-cell empty" />;
  return (
    <td class="code-cell">
      <code class="hljs" dangerouslySetInnerHTML={{ __html: highlighted(text, language) }} />
    </td>
  );
}

export function SideBySide({ from, to, path }: { from: string; to: string; path: string }) {
  const [loaded] = useLoad(
    () => Promise.all([from, to].map((snapshot) => getJson<PreviewData>(`/api/preview?${query({ snapshot, path, bytes: 256 * 1024 })}`))),
    [from, to, path],
  );
  if (loaded.state === 'loading') return <p class="muted">loading both versions…</p>;
  if (loaded.state === 'error') return <p class="error">{loaded.error}</p>;
  const [a, b] = loaded.value as [PreviewData, PreviewData];
  if (!a.text || !b.text) return <p class="muted">Binary file: the two versions differ (compare their SHA-256 in the browser).</p>;
  const language = languageOf(path);
  const rows = lineDiff(a.data.split('\n'), b.data.split('\n'));
  return (
    <table class="side-by-side">
      <thead>
        <tr>
          <th>{from.slice(0, 8)}</th>
          <th>{to.slice(0, 8)}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i} class={r.same ? 'same' : r.left === undefined ? 'added' : r.right === undefined ? 'removed' : 'changed'}>
            <Line text={r.left} language={language} />
            <Line text={r.right} language={language} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}
