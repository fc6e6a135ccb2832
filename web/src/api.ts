/**
 * Talking to `sluice ui`: the token comes from the URL fragment once (#token=…), is traded for an
 * HttpOnly cookie (so <img> and download links work) and kept for this tab's Authorization header.
 */
const KEY = 'sluice-ui-token';
let token: string | null = sessionStorage.getItem(KEY);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Takes the token out of the fragment (so it is not left in the address bar or history) and trades it for
 * the cookie. Returns undefined without a token; else the page can load at once (its requests carry the
 * header) while `cookie` settles: it is sent before any other request, and only images and downloads,
 * asked for after a later answer, need it.
 */
export function startSession(): { cookie: Promise<boolean> } | undefined {
  const m = /^#token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m !== null) {
    token = m[1] as string;
    sessionStorage.setItem(KEY, token);
    history.replaceState(null, '', `${location.pathname}#/`);
  }
  if (token === null) return undefined;
  const cookie = fetch('/api/session', { method: 'POST', headers: { Authorization: `Bearer ${token}` } }).then((res) => res.ok);
  return { cookie };
}

function headers(): HeadersInit {
  return token === null ? {} : { Authorization: `Bearer ${token}` };
}

async function failure(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    message = ((await res.json()) as { error?: string }).error ?? message;
  } catch {
    // not JSON
  }
  return new ApiError(res.status, message);
}

export function query(params: Record<string, string | number | boolean | undefined | null | readonly string[]>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, x);
    else q.set(k, v === true ? '1' : String(v));
  }
  return q.toString();
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: headers() });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export async function postJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { method: 'POST', headers: headers() });
  if (!res.ok && res.status !== 409) throw await failure(res);
  return (await res.json()) as T;
}

/** Reads an NDJSON response line by line as it arrives. */
export async function streamNdjson<T>(path: string, onItem: (item: T) => void, signal?: AbortSignal): Promise<void> {
  const res = await fetch(path, { headers: headers(), ...(signal === undefined ? {} : { signal }) });
  if (!res.ok || res.body === null) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += value;
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line !== '') {
        const item = JSON.parse(line) as T & { error?: string };
        if (typeof item.error === 'string' && Object.keys(item).length === 1) throw new ApiError(500, item.error);
        onItem(item);
      }
      nl = rest.indexOf('\n');
    }
  }
}

export function downloadUrl(snapshot: string, path: string, inline = false): string {
  return `/api/download?${query({ snapshot, path, inline })}`;
}

// ---- what the API returns ----

export interface SnapshotInfo {
  id: string;
  short_id: string;
  time: string;
  host: string;
  user: string;
  tags: string[];
  paths: string[];
  streams: string[];
  summary: { files: number; dirs: number; symlinks: number; bytes: number; newBytes: number; storedBytes: number; durationMs: number };
}

export interface StreamInfo {
  source: 'stdin' | 'command';
  command?: string[];
  exitCode?: number;
  signal?: string;
  stderrTail?: string;
}

export interface NodeInfo {
  path: string;
  name: string;
  kind: 'file' | 'dir' | 'symlink' | 'stream';
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtime: string;
  uid?: number;
  gid?: number;
  size?: number;
  sha256?: string;
  chunks?: number;
  chunk_lists?: number;
  target?: string;
  stream?: StreamInfo;
}

export interface Match extends NodeInfo {
  snapshot: string;
  short_id: string;
  time: string;
  host: string;
  change?: 'added' | 'changed' | 'metadata' | 'unchanged';
}

export interface TreeListing {
  snapshot: SnapshotInfo;
  path: string;
  node: NodeInfo;
  entries: NodeInfo[];
}

export interface PreviewData {
  path: string;
  size: number;
  shown: number;
  truncated: boolean;
  decoded?: string;
  image?: string;
  text: boolean;
  encoding: 'utf8' | 'base64';
  data: string;
}

export interface DiffItem {
  change: '+' | '-' | 'M' | 'T' | 'U';
  path: string;
  type: 'file' | 'dir' | 'symlink';
  what?: string[];
}

export interface CheckState {
  running: boolean;
  startedAt?: string;
  finishedAt?: string;
  progress: string[];
  error?: string;
  report?: { ok: boolean; problems: { kind: string; message: string }[]; notes: string[]; snapshots: number; packs: number; blobs: number; trees: number; indexObjects: number; keys: number };
}

export interface RepoInfo {
  id: string;
  location: string;
  locks: { id: string; host: string; user: string; pid: number; time: string; exclusive: boolean; purpose: string }[];
  check: CheckState;
}
