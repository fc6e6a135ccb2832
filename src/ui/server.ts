/**
 * `sluice ui`'s HTTP server (node's http): the built page and the JSON API. Listens on 127.0.0.1 unless
 * told otherwise; every API request needs the token, the Host header must name the listen address, no
 * CORS headers are ever sent, and nothing about a request (its token least of all) is logged.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import { CryptoPool } from '../repo/workers/crypto-pool.js';
import { Api } from './api.js';
import { CheckJob } from './check-job.js';
import { HttpError, sendError, sendJson, statusOf } from './http-util.js';
import { hasToken, hostChecker, newToken, TOKEN_COOKIE } from './security.js';
import { DEFAULT_WEB_DIR, loadStaticFiles, type StaticFile } from './static-files.js';

export interface UiServerOptions {
  repo: Repository;
  /** Opens the repository again without the local cache (for check). */
  openUncached: () => Promise<Repository>;
  /** Shown in the page (the repository location the user gave). */
  location: string;
  host?: string;
  port?: number;
  token?: string;
  webDir?: string;
  onError?: (message: string) => void;
}

export interface UiServer {
  url: string;
  token: string;
  port: number;
  server: Server;
  check: CheckJob;
  close(): Promise<void>;
}

const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function baseHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? newToken();
  const onError = options.onError ?? (() => undefined);
  const files = await loadStaticFiles(options.webDir ?? DEFAULT_WEB_DIR);
  const pool = new CryptoPool({ setup: { keys: options.repo.workerKeys }, sealers: 2 });
  const check = new CheckJob(options.openUncached);
  const api = new Api({ repo: options.repo, pool, check, location: options.location, now: () => new Date(), onError });
  await options.repo.loadIndex();
  let hostOk: (h: string | undefined) => boolean = () => false;

  const serveStatic = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
    const file: StaticFile | undefined = files.get(url.pathname === '/' ? '/index.html' : url.pathname);
    if (file === undefined) {
      if (files.size === 0 && url.pathname === '/') {
        res.statusCode = 503;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end('The web UI was not built (run `npm run build`); the API works.\n');
        return;
      }
      throw new HttpError(404, 'not found');
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', file.type);
    res.setHeader('Content-Length', file.body.length);
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('Cache-Control', url.pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    baseHeaders(res);
    if (!hostOk(req.headers.host)) {
      // A page on another name (DNS rebinding) or a misdirected request: answer nothing about the repository.
      throw new HttpError(421, 'unexpected Host header');
    }
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    if (!url.pathname.startsWith('/api/')) return serveStatic(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // Cross-site form posts carry an Origin of their own; the page's requests carry ours or none.
      const origin = req.headers.origin;
      if (origin !== undefined && !hostOk(origin.replace(/^https?:\/\//, ''))) throw new HttpError(403, 'cross-origin request refused');
    }
    if (!hasToken(req.headers, token)) throw new HttpError(401, 'a token is required (open the URL sluice ui printed)');
    if (url.pathname === '/api/session' && req.method === 'POST') {
      // The page trades the token from its URL fragment for a cookie, so <img> and download links work.
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      return sendJson(res, { ok: true });
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    await api.handle(req, res, url, abort.signal);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (statusOf(err) === 500) onError(`request failed: ${errorMessage(err)}`);
      if (res.headersSent) res.destroy();
      else sendError(res, err);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hostOk = hostChecker(host, port);
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${port}/#token=${token}`,
    token,
    port,
    server,
    check,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await check.done;
      await pool.close();
    },
  };
}
