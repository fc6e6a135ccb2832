/**
 * An HTTP proxy in front of an S3 server that records every request (method and URL) and forwards it
 * untouched, Host header included, so the client's signatures stay valid. A test points a repository at
 * `http://127.0.0.1:PORT` and reads which objects a command fetched.
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoggedRequest {
  method: string;
  /** Path and query as sent (`/bucket/prefix/index/ab…?x-id=GetObject`). */
  url: string;
}

export interface RequestLog {
  port: number;
  requests: LoggedRequest[];
  /**
   * Names of the objects read whole or in part (GET without `list-type`), relative to `root`
   * (`/bucket/prefix/`), in order.
   */
  objectGets(root: string): string[];
  close(): Promise<void>;
}

export async function requestLog(endpoint: string): Promise<RequestLog> {
  const target = new URL(endpoint);
  const agent = new Agent({ keepAlive: true });
  const requests: LoggedRequest[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/' });
    const upstream = request({ host: target.hostname, port: Number(target.port), method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    objectGets(root) {
      const out: string[] = [];
      for (const r of requests) {
        const url = new URL(r.url, 'http://s3.invalid');
        if (r.method !== 'GET' || url.searchParams.has('list-type')) continue;
        const path = decodeURIComponent(url.pathname);
        if (path.startsWith(root)) out.push(path.slice(root.length));
      }
      return out;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
