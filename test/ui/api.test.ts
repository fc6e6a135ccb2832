/** The web UI's JSON API over HTTP, as the page (or an attacker) calls it: `sluice ui` run as a user runs it. */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/cli.js';
import { describeTree, sha256 } from '../helpers/tree.js';
import { DUMP_SQL, HOSTILE_NAME, PNG, queryFixture } from '../repo/query-fixture.js';
import { startUi } from './ui-server.js';

const ENDPOINTS = ['/api/repo', '/api/snapshots', '/api/tree?snapshot=latest', '/api/node?snapshot=latest', '/api/preview?snapshot=latest&path=dump.sql', '/api/download?snapshot=latest&path=dump.sql', '/api/find?q=*', '/api/history?path=dump.sql', '/api/diff?from=latest&to=latest', '/api/check'];

/** A raw request (fetch cannot send a Host header of its own choosing). */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the built page is found next to the module, as in an installed package (dist/src/ui → dist/web)', async () => {
  const { DEFAULT_WEB_DIR, loadStaticFiles } = await import('../../src/ui/static-files.js');
  assert.equal(DEFAULT_WEB_DIR, fileURLToPath(new URL('../../web/', import.meta.url)));
  const files = await loadStaticFiles(DEFAULT_WEB_DIR);
  assert.match(files.get('/index.html')?.body.toString() ?? '', /<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/);
});

const ndjson = (text: string) => text.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

test('the web UI API: token, Host, traversal, hostile names, previews, downloads, tar, search, history, diff, check', async (t) => {
  const f = await queryFixture(t);
  const [first, second, third] = f.ids;
  const ui = await startUi(t, f.r);
  assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
  const auth = { Authorization: `Bearer ${ui.token}` };
  const get = (path: string, headers: Record<string, string> = auth) => fetch(`${ui.base}${path}`, { headers });
  const getJson = async <T = Record<string, unknown>>(path: string): Promise<T> => {
    const res = await get(path);
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return (await res.json()) as T;
  };
  const rel = f.src.slice(1);

  // No token, a wrong one, or a wrong Host: refused, and no CORS header ever.
  for (const path of ENDPOINTS) {
    const none = await get(path, {});
    assert.equal(none.status, 401, path);
    assert.equal(none.headers.get('access-control-allow-origin'), null);
    assert.equal((await get(path, { Authorization: `Bearer ${ui.token.slice(0, -1)}x` })).status, 401, path);
    assert.equal((await get(path, { Cookie: 'sluice_ui_token=nope' })).status, 401, path);
  }
  assert.equal((await fetch(`${ui.base}/api/check`, { method: 'POST' })).status, 401);
  const rebound = await rawGet(ui.port, '/api/snapshots', { ...auth, Host: `attacker.example:${ui.port}` });
  assert.equal(rebound.status, 421);
  assert.doesNotMatch(rebound.body, /snapshot/);
  assert.equal((await rawGet(ui.port, '/api/snapshots', { ...auth, Host: `localhost:${ui.port}` })).status, 200);
  const withOrigin = await fetch(`${ui.base}/api/check`, { method: 'POST', headers: { ...auth, Origin: 'http://attacker.example' } });
  assert.equal(withOrigin.status, 403);

  // The cookie the page trades its token for works in place of the header.
  const session = await fetch(`${ui.base}/api/session`, { method: 'POST', headers: auth });
  const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] as string;
  assert.match(session.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict/);
  assert.equal((await get('/api/snapshots', { Cookie: cookie })).status, 200);

  // Timeline, newest first, filtered.
  const snaps = await getJson<{ id: string; host: string; tags: string[] }[]>('/api/snapshots');
  assert.deepEqual(snaps.map((s) => s.id), [third, second, first]);
  assert.deepEqual((await getJson<{ id: string }[]>('/api/snapshots?host=db1')).map((s) => s.id), [second, first]);
  assert.deepEqual((await getJson<{ id: string }[]>('/api/snapshots?tag=weekly')).map((s) => s.id), [third]);

  // Paths: traversal and absolute tricks refused before anything is read.
  for (const bad of ['../etc/passwd', `${rel}/../../x`, 'a/./b', 'a\\..\\b', 'x%00y']) {
    const res = await get(`/api/tree?snapshot=${second}&path=${encodeURIComponent(bad).replace('%2500', '%00')}`);
    assert.equal(res.status, 400, bad);
  }
  assert.equal((await get(`/api/tree?snapshot=${second}&path=/no/such`)).status, 404);
  assert.equal((await get('/api/tree?snapshot=zzzz')).status, 400);
  assert.equal((await get('/api/tree?snapshot=abcdef12')).status, 404);

  // The hostile name comes back as a JSON string, exactly.
  const notes = await getJson<{ entries: { name: string; path: string }[] }>(`/api/tree?snapshot=${second}&path=${encodeURIComponent(`${f.src}/notes`)}`);
  assert.deepEqual(notes.entries.map((e) => e.name).sort(), [HOSTILE_NAME, 'README.TXT'].sort());
  const hostileRes = await get(`/api/tree?snapshot=${second}&path=${encodeURIComponent(`${f.src}/notes`)}`);
  assert.match(hostileRes.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(hostileRes.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(hostileRes.headers.get('content-length'), null, 'a listing is streamed, not measured whole first');
  assert.equal(hostileRes.headers.get('transfer-encoding'), 'chunked');

  // Metadata of a stream: its command, exit status and digest.
  const dump = await getJson<{ kind: string; size: number; sha256: string; stream: { source: string } }>(`/api/node?snapshot=${third}&path=dump.sql`);
  assert.equal(dump.kind, 'stream');
  assert.equal(dump.size, DUMP_SQL.length);
  assert.equal(dump.sha256, sha256(DUMP_SQL));
  assert.equal(dump.stream.source, 'stdin');

  // Previews: text, decompressed .gz and .zst, binary as base64, images recognised, cut at the limit.
  const text = await getJson<{ text: boolean; data: string; truncated: boolean }>(`/api/preview?snapshot=${third}&path=dump.sql`);
  assert.equal(text.text, true);
  assert.equal(text.data, DUMP_SQL);
  assert.equal(text.truncated, false);
  for (const [name, codec] of [['dump.sql.gz', 'gzip'], ['dump.sql.zst', 'zstd']]) {
    const p = await getJson<{ decoded: string; data: string; size: number }>(`/api/preview?snapshot=${second}&path=${encodeURIComponent(`${f.src}/media/${name}`)}`);
    assert.equal(p.decoded, codec);
    assert.equal(p.data, DUMP_SQL);
    assert.equal(p.size, f.files[`media/${name}`]?.length);
  }
  const bin = await getJson<{ text: boolean; encoding: string; data: string; truncated: boolean; shown: number }>(`/api/preview?snapshot=${second}&path=${encodeURIComponent(`${f.src}/backup/ibdata1`)}&bytes=1000`);
  assert.equal(bin.text, false);
  assert.equal(bin.encoding, 'base64');
  assert.equal(bin.truncated, true);
  assert.deepEqual(Buffer.from(bin.data, 'base64'), f.files['backup/ibdata1']?.subarray(0, 1000));
  const png = await getJson<{ image: string }>(`/api/preview?snapshot=${second}&path=${encodeURIComponent(`${f.src}/media/dot.png`)}`);
  assert.equal(png.image, 'image/png');

  // Downloads: the stored bytes, with a length, as an attachment with a safe name.
  const ibdata = await get(`/api/download?snapshot=${second}&path=${encodeURIComponent(`${f.src}/backup/ibdata1`)}`);
  assert.equal(ibdata.status, 200);
  assert.equal(ibdata.headers.get('content-type'), 'application/octet-stream');
  assert.equal(ibdata.headers.get('content-length'), String(300 * 1024));
  assert.equal(sha256(Buffer.from(await ibdata.arrayBuffer())), sha256(f.files['backup/ibdata1'] as Buffer));
  const hostile = await get(`/api/download?snapshot=${second}&path=${encodeURIComponent(`${f.src}/notes/${HOSTILE_NAME}`)}`);
  assert.equal(await hostile.text(), 'hostile name\n');
  const disposition = hostile.headers.get('content-disposition') ?? '';
  assert.match(disposition, /^attachment; filename="<img src=x onerror=alert\(1\)>"; filename\*=UTF-8''%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E$/);
  const image = await get(`/api/download?snapshot=${second}&path=${encodeURIComponent(`${f.src}/media/dot.png`)}&inline=1`);
  assert.equal(image.headers.get('content-type'), 'image/png');
  assert.match(image.headers.get('content-disposition') ?? '', /^inline;/);
  assert.deepEqual(Buffer.from(await image.arrayBuffer()), PNG);
  const sqlInline = await get(`/api/download?snapshot=${third}&path=dump.sql&inline=1`);
  assert.match(sqlInline.headers.get('content-disposition') ?? '', /^attachment;/, 'only images are ever inline');
  assert.equal(await sqlInline.text(), DUMP_SQL);

  // A directory as tar: GNU tar extracts the original tree.
  const tarRes = await get(`/api/download?snapshot=${second}&path=${encodeURIComponent(f.src)}`);
  assert.equal(tarRes.headers.get('content-type'), 'application/x-tar');
  assert.match(tarRes.headers.get('content-disposition') ?? '', /filename="src.tar"/);
  const tarFile = join(f.r.dir, 'src.tar');
  await writeFile(tarFile, Buffer.from(await tarRes.arrayBuffer()));
  const out = join(f.r.dir, 'untarred');
  await mkdir(out);
  const untar = await run('tar', ['-xf', tarFile, '-C', out]);
  assert.equal(untar.status, 0, untar.stderr);
  assert.deepEqual(await describeTree(join(out, 'src')), await describeTree(f.src));

  // Search, history and diff stream NDJSON.
  const found = ndjson(await (await get('/api/find?q=*.ibd')).text());
  assert.deepEqual(found.map((m) => [m.snapshot, m.name]), [[second, 'items.ibd'], [second, 'orders.ibd'], [first, 'orders.ibd']]);
  const streams = ndjson(await (await get('/api/find?q=dump*&kind=stream')).text());
  assert.deepEqual(streams.map((m) => m.path), ['/dump.sql']);
  const ci = ndjson(await (await get('/api/find?q=*.txt&ignoreCase=1&host=db1&newer=2026-11-10')).text());
  assert.deepEqual(ci.map((m) => [m.snapshot, m.name]), [[second, 'README.TXT']]);
  assert.equal((await get('/api/find?q=*&kind=socket')).status, 400);
  const history = ndjson(await (await get(`/api/history?path=${encodeURIComponent(`${f.src}/etc/nginx/nginx.conf`)}`)).text());
  assert.deepEqual(history.map((v) => [v.snapshot, v.change]), [[second, 'changed'], [first, 'added']]);
  const diff = ndjson(await (await get(`/api/diff?from=${first}&to=${second}`)).text());
  assert.deepEqual(diff.filter((d) => d.change !== 'U').map((d) => [d.change, d.path]), [
    ['+', `/${rel}/backup/shop/items.ibd`],
    ['M', `/${rel}/etc/nginx/nginx.conf`],
  ]);

  // check: runs once at a time in the background; the state says how it went.
  const started = await fetch(`${ui.base}/api/check`, { method: 'POST', headers: auth });
  assert.equal(started.status, 202);
  let state: { running: boolean; report?: { ok: boolean; snapshots: number; problems: unknown[] }; progress: string[] } = { running: true, progress: [] };
  for (let i = 0; i < 300 && state.running; i++) {
    await new Promise((r) => setTimeout(r, 100));
    state = await getJson('/api/check');
  }
  assert.equal(state.running, false);
  assert.equal(state.report?.ok, true, JSON.stringify(state));
  assert.equal(state.report?.snapshots, 3);
  assert.ok(state.progress.includes('listing snapshots'));
  const repoInfo = await getJson<{ locks: unknown[]; check: { report: { ok: boolean } } }>('/api/repo');
  assert.deepEqual(repoInfo.locks, [], 'the check released its lock');
  assert.equal(repoInfo.check.report.ok, true);

  // A snapshot made while the UI runs shows up, its trees readable (the index is refreshed).
  const more = await f.r.run(['snapshot', '--stdin', 'later.sql', '--json', '--no-progress'], { input: 'SELECT 1;\n' });
  assert.equal(more.status, 0, more.stderr);
  // Named by id before any listing: the API lists the repository again when the id is new to it.
  const moreId = (JSON.parse(more.stdout.toString()) as { id: string }).id;
  assert.equal((await getJson<{ size: number }>(`/api/node?snapshot=${moreId.slice(0, 8)}&path=later.sql`)).size, 'SELECT 1;\n'.length);
  assert.equal((await getJson<unknown[]>('/api/snapshots')).length, 4);
  assert.equal((await getJson<{ data: string }>('/api/preview?snapshot=latest&path=later.sql')).data, 'SELECT 1;\n');

  assert.equal(await ui.stop(), 130);
  assert.doesNotMatch(ui.stderr().replace(ui.url, ''), new RegExp(ui.token), 'the token is printed once, in the URL, and never logged');
});
