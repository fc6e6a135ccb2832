/** What `dump` and `load` share on the command line: connection options and the text of their progress lines. */
import type { Command } from 'commander';
import type { ConnectOptions } from '../mysql/connection.js';
import type { CliContext } from './context.js';
import { parseCount } from './units.js';
import { formatBytes } from './units.js';

export interface ConnectionFlags {
  host?: string;
  port?: string;
  user?: string;
  password?: string;
  socket?: string;
}

export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .helpOption('--help', 'display help for command')
    .option('-h, --host <host>', 'server host (env MYSQL_HOST)', undefined)
    .option('-P, --port <port>', 'server port (env MYSQL_TCP_PORT)')
    .option('-u, --user <user>', 'user name (env MYSQL_USER; default root)')
    .option('-p, --password <password>', 'password (better: env MYSQL_PWD)')
    .option('-S, --socket <path>', 'Unix socket path (instead of host and port)');
}

export function connectOptions(flags: ConnectionFlags, ctx: CliContext): ConnectOptions {
  const port = flags.port ?? ctx.env.MYSQL_TCP_PORT;
  const out: ConnectOptions = {
    host: flags.host ?? ctx.env.MYSQL_HOST ?? '127.0.0.1',
    user: flags.user ?? ctx.env.MYSQL_USER ?? 'root',
    password: flags.password ?? ctx.env.MYSQL_PWD ?? '',
  };
  if (port !== undefined) out.port = parseCount(port, '--port', 1, 65535);
  if (flags.socket !== undefined) out.socket = flags.socket;
  return out;
}

export function rate(count: number, elapsedMs: number): string {
  return elapsedMs > 0 ? `${Math.round((count * 1000) / elapsedMs)}` : '0';
}

export function progressText(p: {
  tablesDone: number;
  tablesTotal: number;
  rows: number;
  bytes: number;
  elapsedMs: number;
}): string {
  return (
    `tables ${p.tablesDone}/${p.tablesTotal}, ${p.rows} rows (${rate(p.rows, p.elapsedMs)} rows/s), ` +
    `${formatBytes(p.bytes)} (${formatBytes(Number(rate(p.bytes, p.elapsedMs)))}/s), ${(p.elapsedMs / 1000).toFixed(0)} s`
  );
}
