/** The first part of a file: highlighted text, a hex dump, or the image itself. */
import { getJson, downloadUrl, type PreviewData, query } from '../api';
import { bytes } from '../format';
import { base64Bytes, HexDump } from './hex';
import { Code, languageOf } from './highlight';
import { useLoad } from './use-load';

export function Preview({ snapshot, path }: { snapshot: string; path: string }) {
  const [p] = useLoad(() => getJson<PreviewData>(`/api/preview?${query({ snapshot, path })}`), [snapshot, path]);
  if (p.state === 'loading') return <p class="muted">loading preview…</p>;
  if (p.state === 'error') return <p class="error">{p.error}</p>;
  const v = p.value;
  const note = `${v.decoded === undefined ? '' : `decompressed (${v.decoded}), `}first ${bytes(v.shown)}${v.truncated ? ' shown' : ''}; every chunk verified`;
  return (
    <section class="preview" data-kind={v.image !== undefined ? 'image' : v.text ? 'text' : 'binary'}>
      <h3>
        Preview <span class="muted">{note}</span>
      </h3>
      {v.image !== undefined ? (
        <img class="image" src={downloadUrl(snapshot, path, true)} alt={`preview of ${path}`} />
      ) : v.text ? (
        <Code text={v.data} language={languageOf(path)} />
      ) : (
        <HexDump data={base64Bytes(v.data).subarray(0, 4096)} />
      )}
    </section>
  );
}
