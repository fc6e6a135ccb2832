/**
 * A TCP proxy for fault tests: forwards to `target` and, while it has cuts left, destroys a connection
 * once more than `afterBytes` went through it in the chosen direction (upload: client to server,
 * download: server to client). It counts connections and cuts so a test can assert faults happened.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface CutProxy {
  port: number;
  readonly cuts: number;
  readonly connections: number;
  /** Cuts left (Infinity: cut every connection that passes the threshold). */
  remaining: number;
  /** The gateway "goes away": connections are cut and new ones refused until `up`. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function cutProxy(
  target: { host: string; port: number },
  direction: 'upload' | 'download',
  afterBytes: number,
  cuts: number,
  /** 'stall': instead of cutting, stop forwarding and leave the connection open (a hung server). */
  action: 'cut' | 'stall' = 'cut',
): Promise<CutProxy> {
  const sockets = new Set<Socket>();
  let made = 0;
  let connections = 0;
  const state = { remaining: cuts };
  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    let bytes = 0;
    let stalled = false;
    const cut = () => {
      made += 1;
      state.remaining -= 1;
      if (action === 'stall') {
        stalled = true;
        return;
      }
      client.destroy();
      upstream.destroy();
    };
    const watch = (from: Socket, to: Socket, counted: boolean) => {
      from.on('data', (chunk: Buffer) => {
        if (stalled) return;
        if (counted) {
          bytes += chunk.length;
          if (state.remaining > 0 && bytes > afterBytes) {
            cut();
            return;
          }
        }
        if (!to.write(chunk)) from.pause();
      });
      to.on('drain', () => from.resume());
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    };
    watch(client, upstream, direction === 'upload');
    watch(upstream, client, direction === 'download');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    get cuts() {
      return made;
    },
    get connections() {
      return connections;
    },
    get remaining() {
      return state.remaining;
    },
    set remaining(n: number) {
      state.remaining = n;
    },
    down: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    up: () => new Promise<void>((resolve) => server.listen(address.port, '127.0.0.1', resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) resolve();
        else server.close(() => resolve());
      }),
  };
}
