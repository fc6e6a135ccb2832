/**
 * A thin promise layer over one mysql2 connection, plus the raw-row query that the dump's hot path
 * uses: rows are handed over as the bytes of their text-protocol packet, without mysql2 decoding them.
 */
import type mysql from 'mysql2';
import { SluiceError } from '../errors.js';

export interface ConnectOptions {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  /** Unix socket path; takes precedence over host and port. */
  socket?: string;
  /** Connect timeout in milliseconds. */
  connectTimeoutMs?: number;
}

export type Row = Record<string, unknown>;

/** Receives each row's packet: `buf[start, end)` is the row (a sequence of length-encoded values). */
export type RawRowHandler = (buf: Buffer, start: number, end: number) => void;

/** Lets a raw-row consumer stop and restart the flow of packets from the server (backpressure). */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

type QueryCtor = new (options: { sql: string }, callback: undefined) => RawQuery;
interface RawQuery {
  row: (packet: MysqlPacket, connection: unknown) => unknown;
  on(event: 'end', fn: () => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
}
interface MysqlPacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
}

let queryClass: QueryCtor | undefined;
const CHARSET_BINARY = 63;
const CHARSET_UTF8MB4 = 45; // utf8mb4_general_ci

export class MysqlError extends SluiceError {}

export class Session {
  #closed = false;
  #packet = Buffer.allocUnsafe(1 << 20);
  private constructor(
    readonly conn: mysql.Connection,
    readonly binary: boolean,
  ) {
    conn.on('error', () => undefined); // reported through the pending query; never crash on the event
  }

  /**
   * Opens a connection. `binary`: the connection character set is `binary`, so the server sends and
   * receives bytes unconverted (data queries and statement replay); otherwise utf8mb4.
   */
  static async open(options: ConnectOptions, binary = false): Promise<Session> {
    const conn = (await loadMysql()).createConnection({
      host: options.socket === undefined ? (options.host ?? '127.0.0.1') : undefined,
      port: options.socket === undefined ? (options.port ?? 3306) : undefined,
      socketPath: options.socket,
      user: options.user ?? 'root',
      password: options.password ?? '',
      charset: binary ? 'BINARY' : 'UTF8MB4_GENERAL_CI',
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      multipleStatements: false,
      connectTimeout: options.connectTimeoutMs ?? 20_000,
      flags: ['-FOUND_ROWS'],
    });
    await new Promise<void>((resolve, reject) => {
      conn.connect((err) => (err ? reject(wrap(err, 'connecting to the server')) : resolve()));
    });
    return new Session(conn, binary);
  }

  /**
   * SQL text goes out in UTF-8. A `binary` connection sends a string's chars as single bytes, so
   * text is first turned into its UTF-8 bytes, one char each; `latin1` marks SQL that already is
   * (statements read from a dump file, replayed byte for byte).
   */
  #wire(sql: string, latin1: boolean): string {
    // mysql2 follows the server's session tracking: after a `SET NAMES` in a replayed file it would
    // start encoding our strings in that character set. Our strings are already bytes or UTF-8 text.
    const config = (this.conn as unknown as { config: { charsetNumber: number } }).config;
    config.charsetNumber = this.binary ? CHARSET_BINARY : CHARSET_UTF8MB4;
    return this.binary && !latin1 ? Buffer.from(sql, 'utf8').toString('latin1') : sql;
  }

  /** Rows as objects (strings for text, numbers, big numbers and dates). */
  query<T = Row>(sql: string, values?: unknown[], latin1 = false): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.conn.query({ sql: this.#wire(sql, latin1), values }, (err, rows) => {
        if (err) reject(wrap(err, sql));
        else resolve(Array.isArray(rows) ? (rows as T[]) : []);
      });
    });
  }

  /** Runs a statement; resolves with the affected row count. */
  exec(sql: string, latin1 = false): Promise<number> {
    return new Promise((resolve, reject) => {
      this.conn.query({ sql: this.#wire(sql, latin1) }, (err, result) => {
        if (err) reject(wrap(err, sql));
        else resolve(Array.isArray(result) ? 0 : ((result as { affectedRows?: number }).affectedRows ?? 0));
      });
    });
  }

  /**
   * Runs a SELECT and passes each row's raw packet bytes to `onRow`, synchronously as they arrive.
   * Resolves with the row count once the result set has ended.
   */
  rawRows(sql: string, onRow: RawRowHandler): Promise<number> {
    const ctor = rawQueryClass(this.conn);
    const q = new ctor({ sql: this.#wire(sql, false) }, undefined);
    const base = q.row;
    let rows = 0;
    let failure: unknown;
    let rejectNow: (err: unknown) => void = () => undefined;
    const row = function (this: RawQuery, packet: MysqlPacket, connection: unknown): unknown {
      if (packet.isEOF()) return base.call(this, packet, connection);
      if (failure !== undefined) return row;
      rows += 1;
      try {
        onRow(packet.buffer, packet.offset, packet.end);
      } catch (err) {
        // Never let an exception escape into mysql2's socket handler: fail this query and drop the link.
        failure = err;
        rejectNow(err);
      }
      return row;
    };
    q.row = row;
    return new Promise((resolve, reject) => {
      let failed = false;
      rejectNow = (err) => {
        failed = true;
        reject(err);
        setImmediate(() => this.conn.destroy());
      };
      q.on('error', (err) => {
        if (failed) return;
        failed = true;
        reject(wrap(err, sql));
      });
      q.on('end', () => {
        if (!failed) resolve(rows);
      });
      (this.conn as unknown as { query(q: RawQuery): void }).query(q);
    });
  }

  /**
   * Runs one statement given as bytes, sent as they are (no character set conversion, and none of
   * mysql2's placeholder scanning, which costs more than the send for megabyte statements).
   * Resolves with the affected row count.
   */
  execBytes(sql: Uint8Array): Promise<number> {
    const ctor = rawQueryClass(this.conn);
    // One packet buffer per connection, reused: the previous statement's bytes have all reached the
    // server by the time its answer has come back. Past 16 MiB mysql2 splits the packet itself.
    if (this.#packet.length < 5 + sql.length) this.#packet = Buffer.allocUnsafe(Math.max(5 + sql.length, this.#packet.length * 2));
    const buf = this.#packet.subarray(0, 5 + sql.length);
    buf[4] = 0x03; // COM_QUERY
    buf.set(sql, 5);
    const packet = {
      buffer: buf,
      _name: 'Query',
      length: (): number => buf.length,
      writeHeader(sequenceId: number): void {
        const n = Math.min(buf.length - 4, 0xffffff);
        buf[0] = n & 0xff;
        buf[1] = (n >> 8) & 0xff;
        buf[2] = (n >> 16) & 0xff;
        buf[3] = sequenceId;
      },
    };
    return new Promise((resolve, reject) => {
      const q = new ctor({ sql: '' }, undefined) as unknown as RawQuery & {
        start(p: unknown, c: { writePacket(p: unknown): void }): unknown;
        onResult: (err: Error | null, result?: unknown) => void;
      };
      q.onResult = (err, result) => {
        if (err) reject(wrap(err, 'running a statement from the dump'));
        else resolve(Array.isArray(result) ? 0 : ((result as { affectedRows?: number } | undefined)?.affectedRows ?? 0));
      };
      const start = q.start;
      q.start = function (this: unknown, p: unknown, connection: { writePacket(p: unknown): void }): unknown {
        // Let mysql2 set up the command as usual, but put our bytes on the wire instead of its packet.
        const write = connection.writePacket;
        connection.writePacket = (): void => {
          connection.writePacket = write;
          write.call(connection, packet);
        };
        return start.call(this, p, connection);
      };
      (this.conn as unknown as { addCommand(q: unknown): void }).addCommand(q);
    });
  }

  get flow(): FlowControl {
    return { pause: () => this.conn.pause(), resume: () => this.conn.resume() };
  }

  /** Server thread id, for KILL. */
  get threadId(): number | null {
    return this.conn.threadId;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => {
      this.conn.end(() => resolve());
      setTimeout(resolve, 2000).unref();
    });
    this.conn.destroy();
  }

  destroy(): void {
    this.#closed = true;
    this.conn.destroy();
  }
}

/** `mysql2` is loaded by the first connection: the commands that never connect (and --help) skip its start-up cost. */
let mysqlModule: typeof mysql | undefined;
async function loadMysql(): Promise<typeof mysql> {
  mysqlModule ??= (await import('mysql2')).default;
  return mysqlModule;
}

function rawQueryClass(conn: mysql.Connection): QueryCtor {
  if (queryClass === undefined) {
    // a connection exists, so open() has loaded the module
    const probe = ((mysqlModule as typeof mysql).Connection as unknown as {
      createQuery(sql: string, values: unknown[], cb: undefined, config: unknown): { constructor: QueryCtor };
    }).createQuery('SELECT 1', [], undefined, (conn as unknown as { config: unknown }).config);
    queryClass = probe.constructor;
  }
  return queryClass;
}

function wrap(err: unknown, what: string): MysqlError {
  const e = err as { message?: string; code?: string; errno?: number; sqlState?: string };
  const short = what.length > 200 ? `${what.slice(0, 200)}…` : what;
  return new MysqlError(e.code ?? 'E_MYSQL', `${e.message ?? String(err)} (while ${describe(short)})`, {}, {
    cause: err,
  });
}

function describe(what: string): string {
  return /^(SELECT|SHOW|SET|FLUSH|UNLOCK|START|USE|INSERT|CREATE|DROP|ALTER|COMMIT|KILL|LOCK)\b/i.test(what)
    ? `running: ${what}`
    : what;
}

/** `name` → `` `name` `` with backticks doubled. */
export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** A string literal for SQL text we build ourselves (names in information_schema queries and the like). */
export function quoteString(value: string): string {
  return `'${value.replace(/[\0\n\r\\'"\x1a]/g, (c) => ESCAPES[c] ?? c)}'`;
}

const ESCAPES: Record<string, string> = {
  '\0': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '\x1a': '\\Z',
};

/** Values of `binary` connections arrive as Buffers; metadata text is UTF-8. */
export function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return String(value);
}
