/**
 * The JSON API of `sluice ui` (listed in docs/ui-api.md). Every handler reads the repository through the
 * library (snapshots, trees, find, history, diff, check); paths from the client become SafePaths
 * before they are used.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SafePath } from '../entry.js';
import { idFromName, Names } from '../repo/format.js';
import { listLocks } from '../repo/lock.js';
import { parseTimeBound, type SnapshotQuery } from '../repo/query/filters.js';
import { findEntries, parseKinds } from '../repo/query/find.js';
import { pathHistory } from '../repo/query/history.js';
import { matchJson, nodeJson, snapshotJson } from '../repo/query/json.js';
import { nodeAt } from '../repo/query/node-at.js';
import type { Repository } from '../repo/repository.js';
import { diffTrees } from '../repo/snapshot/diff.js';
import { bySnapshotTime, loadSnapshot, resolveSnapshot, type Snapshot, type SnapshotRef } from '../repo/snapshot/snapshots.js';
import type { Tree } from '../repo/snapshot/tree.js';
import { loadTree, snapshotPath } from '../repo/snapshot/walker.js';
import { forEachLimit } from '../repo/util/parallel.js';
import type { CryptoPool } from '../repo/workers/crypto-pool.js';
import type { CheckJob } from './check-job.js';
import { dirTar, fileBytes } from './download.js';
import { apiHeaders, HttpError, sendBytes, sendJson, sendJsonArray, sendJsonStream, sendNdjson } from './http-util.js';
import { imageType, previewFile } from './preview.js';
import { contentDisposition } from './security.js';

export interface ApiContext {
  repo: Repository;
  pool: CryptoPool;
  check: CheckJob;
  location: string;
  now: () => Date;
  onError: (message: string) => void;
}

const MAX_PREVIEW = 1024 * 1024;
/** Snapshot and index objects read at once: a first listing of 1,000 snapshots on S3 is 1,000 GETs. */
const LOAD_CONCURRENCY = 16;
/** About 250 bytes each: a few large directories, or many small ones. */
const MAX_CACHED_NODES = 200_000;

export class Api {
  /** Snapshot objects already read (they never change); listing finds new and forgotten ones. */
  readonly #snapshots = new Map<string, Snapshot>();
  /** The list `snapshots()` returned last. */
  #listed: SnapshotRef[] | undefined;
  /** Decoded trees, least recently used first, at most MAX_CACHED_NODES nodes in all. */
  readonly #trees = new Map<string, Tree>();
  #treeNodes = 0;

  constructor(private readonly c: ApiContext) {}

  /** Every snapshot, oldest first; index objects written since the last call are loaded too. */
  async snapshots(): Promise<readonly SnapshotRef[]> {
    const { repo } = this.c;
    const ids = new Set<string>();
    for await (const info of repo.store.list(Names.snapshotsPrefix)) {
      const id = idFromName(info.name, Names.snapshotsPrefix);
      if (id !== undefined) ids.add(id);
    }
    let forgotten = 0;
    for (const id of this.#snapshots.keys()) {
      if (!ids.has(id)) {
        this.#snapshots.delete(id);
        forgotten += 1;
      }
    }
    const unread = [...ids].filter((id) => !this.#snapshots.has(id));
    if (this.#listed !== undefined && unread.length === 0 && forgotten === 0) return this.#listed;
    await forEachLimit(unread, LOAD_CONCURRENCY, async (id) => {
      this.#snapshots.set(id, await loadSnapshot(repo, id));
    });
    // A snapshot object is written after the index objects naming its data: no new snapshot, no new index.
    if (unread.length > 0) {
      const indexNames: string[] = [];
      for await (const info of repo.store.list(Names.indexPrefix)) {
        if (idFromName(info.name, Names.indexPrefix) !== undefined && !repo.indexNames.has(info.name)) indexNames.push(info.name);
      }
      await forEachLimit(indexNames, LOAD_CONCURRENCY, (name) => repo.loadIndexObject(name));
    }
    this.#listed = [...this.#snapshots].map(([id, snapshot]) => ({ id, snapshot })).sort(bySnapshotTime);
    return this.#listed;
  }

  /**
   * The snapshot a request names, from the list as last read; the repository is listed again only for
   * `latest` or an id the list does not have (a listing of 1,000 snapshot names took 40-300 ms).
   */
  async snapshot(params: URLSearchParams): Promise<SnapshotRef> {
    const ref = params.get('snapshot');
    if (ref === null || ref === '') throw new HttpError(400, 'snapshot is required');
    return this.resolve(ref);
  }

  async resolve(ref: string): Promise<SnapshotRef> {
    if (ref !== 'latest' && this.#listed !== undefined) {
      try {
        return resolveSnapshot(this.#listed, ref);
      } catch {
        // Not in the list as last read: made since, or no such snapshot (the fresh list says which).
      }
    }
    return resolveSnapshot(await this.snapshots(), ref);
  }

  /** A directory's tree, decoded once: 10,000 entries take ~0.2 s to decode and check. */
  async tree(id: string): Promise<Tree> {
    const known = this.#trees.get(id);
    if (known !== undefined) {
      this.#trees.delete(id);
      this.#trees.set(id, known);
      return known;
    }
    const tree = await loadTree(this.c.repo, id);
    this.#trees.set(id, tree);
    // An empty directory counts as one node, so many of them are bounded too.
    this.#treeNodes += tree.nodes.length + 1;
    for (const [old, t] of this.#trees) {
      if (this.#treeNodes <= MAX_CACHED_NODES || old === id) break;
      this.#trees.delete(old);
      this.#treeNodes -= t.nodes.length + 1;
    }
    return tree;
  }

  /** The node at `path` of the snapshot, 404 when absent. */
  async node(params: URLSearchParams): Promise<{ ref: SnapshotRef; path: SafePath | ''; node: NonNullable<Awaited<ReturnType<typeof nodeAt>>> }> {
    const ref = await this.snapshot(params);
    const path = snapshotPath(params.get('path') ?? '');
    const node = await nodeAt(this.c.repo, ref.snapshot.tree, path, (id) => this.tree(id));
    if (node === undefined) throw new HttpError(404, `/${path} is not in snapshot ${ref.id.slice(0, 8)}`);
    return { ref, path, node };
  }

  query(params: URLSearchParams): SnapshotQuery {
    const now = this.c.now();
    const list = (name: string) => params.getAll(name).flatMap((v) => v.split(',')).filter((v) => v !== '');
    const one = (name: string) => {
      const v = params.get(name);
      return v === null || v === '' ? undefined : v;
    };
    const newer = one('newer');
    const older = one('older');
    const host = one('host');
    return {
      snapshots: list('snapshot'),
      tags: list('tag'),
      ...(host === undefined ? {} : { host }),
      ...(newer === undefined ? {} : { newer: parseTimeBound(newer, 'newer', now) }),
      ...(older === undefined ? {} : { older: parseTimeBound(older, 'older', now) }),
    };
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, signal: AbortSignal): Promise<void> {
    const p = url.searchParams;
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    const { repo } = this.c;
    switch (route) {
      case 'GET /api/repo': {
        const { locks } = await listLocks(repo);
        return sendJson(res, { id: repo.id, location: this.c.location, locks, check: this.c.check.state });
      }
      case 'GET /api/snapshots': {
        const q = this.query(p);
        const all = [...(await this.snapshots())].reverse();
        const out = all.filter((r) => (q.host === undefined || r.snapshot.host === q.host) && (q.tags ?? []).every((t) => r.snapshot.tags.includes(t)));
        return sendJsonArray(res, each(out, snapshotJson));
      }
      case 'GET /api/tree': {
        const { ref, path, node } = await this.node(p);
        if (node.type !== 'dir') return sendJson(res, { snapshot: snapshotJson(ref), path: `/${path}`, node: nodeJson(`/${path}`, node), entries: [] });
        const tree = await this.tree(node.subtree);
        const prefix = path === '' ? '/' : `/${path}/`;
        const entries = each(tree.nodes, (n) => nodeJson(`${prefix}${n.name}`, n));
        return sendJsonStream(res, { snapshot: snapshotJson(ref), path: `/${path}`, node: nodeJson(`/${path}`, node) }, 'entries', entries);
      }
      case 'GET /api/node': {
        const { ref, path, node } = await this.node(p);
        return sendJson(res, { snapshot: snapshotJson(ref), ...nodeJson(`/${path}`, node) });
      }
      case 'GET /api/preview': {
        const { path, node } = await this.node(p);
        if (node.type !== 'file') throw new HttpError(400, `/${path} is a ${node.type === 'dir' ? 'directory' : 'symlink'}`);
        const limit = Math.min(MAX_PREVIEW, Math.max(1, Number(p.get('bytes') ?? 64 * 1024) || 64 * 1024));
        const preview = await previewFile(repo, this.c.pool, node, `/${path}`, limit);
        return sendJson(res, {
          path: `/${path}`,
          size: node.size,
          shown: preview.data.length,
          truncated: preview.truncated,
          ...(preview.decoded === undefined ? {} : { decoded: preview.decoded }),
          ...(preview.image === undefined ? {} : { image: preview.image }),
          text: preview.text,
          encoding: preview.text ? 'utf8' : 'base64',
          data: preview.text ? preview.data.toString('utf8') : preview.data.toString('base64'),
        });
      }
      case 'GET /api/download': {
        const { path, node } = await this.node(p);
        const at = `/${path}`;
        if (node.type === 'symlink') throw new HttpError(400, `${at} is a symlink (to ${node.target})`);
        const name = path === '' ? 'snapshot' : (path.slice(path.lastIndexOf('/') + 1) as string);
        res.statusCode = 200;
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('X-Content-Type-Options', 'nosniff');
        const onError = (err: unknown) => this.c.onError(`download of ${at} failed: ${(err as Error).message}`);
        if (node.type === 'dir') {
          res.setHeader('Content-Type', 'application/x-tar');
          res.setHeader('Content-Disposition', contentDisposition(`${name}.tar`));
          return sendBytes(res, dirTar(repo, this.c.pool, node, name, at, signal), onError);
        }
        const inline = p.get('inline') === '1';
        const first = inline ? await previewFile(repo, this.c.pool, node, at, 16) : undefined;
        const image = first === undefined ? undefined : imageType(first.data);
        // Inline only for images (shown in <img>); anything else is an attachment, never rendered by the browser.
        res.setHeader('Content-Type', image ?? 'application/octet-stream');
        res.setHeader('Content-Disposition', contentDisposition(name, image !== undefined));
        res.setHeader('Content-Length', node.size);
        res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
        return sendBytes(res, fileBytes(repo, this.c.pool, node, at, signal), onError);
      }
      case 'GET /api/find': {
        const kinds = parseKinds(p.getAll('kind').flatMap((v) => v.split(',')).filter((v) => v !== ''));
        const min = p.get('minSize');
        const max = p.get('maxSize');
        const path = p.get('path');
        const limit = Number(p.get('limit') ?? 1000);
        const matches = findEntries(repo, {
          ...this.query(p),
          patterns: p.getAll('q').filter((v) => v !== ''),
          ignoreCase: p.get('ignoreCase') === '1',
          kinds,
          signal,
          limit: Number.isInteger(limit) && limit > 0 ? limit : 1000,
          ...(min === null || min === '' ? {} : { minSize: Number(min) }),
          ...(max === null || max === '' ? {} : { maxSize: Number(max) }),
          ...(path === null || path === '' ? {} : { path }),
        });
        await this.snapshots();
        return sendNdjson(res, map(matches, (m) => matchJson(m)));
      }
      case 'GET /api/history': {
        const path = p.get('path');
        if (path === null) throw new HttpError(400, 'path is required');
        await this.snapshots();
        return sendNdjson(res, map(pathHistory(repo, path, { ...this.query(p), signal }), (v) => matchJson(v, { change: v.change })));
      }
      case 'GET /api/diff': {
        const from = p.get('from');
        const to = p.get('to');
        if (from === null || to === null) throw new HttpError(400, 'from and to are required');
        const a = await this.resolve(from);
        const b = await this.resolve(to);
        return sendNdjson(res, diffTrees(repo, a.snapshot.tree, b.snapshot.tree, ''));
      }
      case 'GET /api/check':
        return sendJson(res, this.c.check.state);
      case 'POST /api/check': {
        const started = this.c.check.start();
        return sendJson(res, { started, ...this.c.check.state }, started ? 202 : 409);
      }
      default:
        throw new HttpError(404, `no such endpoint: ${route}`);
    }
  }
}

/** Each item's JSON form made only when the writer asks for it. */
function* each<T, R>(items: Iterable<T>, fn: (item: T) => R): Generator<R> {
  for (const item of items) yield fn(item);
}

async function* map<T, R>(items: AsyncIterable<T>, fn: (item: T) => R): AsyncGenerator<R> {
  for await (const item of items) yield fn(item);
}

export { apiHeaders };
