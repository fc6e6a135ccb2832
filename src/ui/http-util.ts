/** Small helpers for answering HTTP requests: JSON, NDJSON with backpressure, errors as status codes. */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { errorMessage, SluiceError, UnsafePathError, UsageError } from '../errors.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const NOT_FOUND = new Set(['E_NO_SUCH_PATH', 'E_NO_SNAPSHOT']);

export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof UsageError || err instanceof UnsafePathError) return 400;
  if (err instanceof SluiceError && NOT_FOUND.has(err.code)) return 404;
  return 500;
}

export function apiHeaders(res: ServerResponse, type: string): void {
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

export function sendJson(res: ServerResponse, value: unknown, status = 200): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  apiHeaders(res, 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  const code = err instanceof SluiceError ? err.code : undefined;
  sendJson(res, { error: status === 500 && !(err instanceof SluiceError) ? 'internal error' : errorMessage(err), ...(code === undefined ? {} : { code }) }, status);
}

/** Writes a chunk, waiting for the socket to drain when its buffer is full. */
export async function write(res: ServerResponse, chunk: Uint8Array | string): Promise<void> {
  if (res.destroyed) throw new Error('client went away');
  if (!res.write(chunk)) {
    await Promise.race([once(res, 'drain'), once(res, 'close')]);
    if (res.destroyed) throw new Error('client went away');
  }
}

/** Text is sent in pieces of about this size: one write per entry costs more than the JSON itself. */
const PIECE = 64 * 1024;
/**
 * A listing waits for the socket only once this much is queued: waiting at the socket's 16 KiB mark made a
 * 2.5 MiB listing wait for `drain` 160 times, and took chromium 0.5-1 s to receive on a busy machine.
 */
const QUEUED_LIMIT = 1024 * 1024;

async function writeBuffered(res: ServerResponse, chunk: string): Promise<void> {
  if (res.destroyed) throw new Error('client went away');
  if (!res.write(chunk) && res.writableLength >= QUEUED_LIMIT) {
    await Promise.race([once(res, 'drain'), once(res, 'close')]);
    if (res.destroyed) throw new Error('client went away');
  }
}

/**
 * A JSON object whose `key` is an array written element by element as `items` yields them, in pieces,
 * waiting for the socket to drain: a 10,000-entry listing is never one string. A failure once the body
 * has started cuts the connection, so the client gets unparseable JSON, never a complete-looking one.
 */
export async function sendJsonStream(res: ServerResponse, head: Record<string, unknown> | undefined, key: string, items: Iterable<unknown> | AsyncIterable<unknown>): Promise<void> {
  const open = head === undefined ? '[' : `${JSON.stringify(head).slice(0, -1)}${Object.keys(head).length > 0 ? ',' : ''}${JSON.stringify(key)}:[`;
  res.statusCode = 200;
  apiHeaders(res, 'application/json; charset=utf-8');
  let piece = open;
  let first = true;
  try {
    for await (const item of items) {
      piece += `${first ? '' : ','}${JSON.stringify(item)}`;
      first = false;
      if (piece.length >= PIECE) {
        await writeBuffered(res, piece);
        piece = '';
      }
    }
    await write(res, `${piece}]${head === undefined ? '' : '}'}`);
    res.end();
  } catch (err) {
    // Nothing sent yet: the caller answers with the error instead.
    if (!res.headersSent) throw err;
    res.destroy();
  }
}

/** A JSON array written element by element (see sendJsonStream). */
export function sendJsonArray(res: ServerResponse, items: Iterable<unknown> | AsyncIterable<unknown>): Promise<void> {
  return sendJsonStream(res, undefined, '', items);
}

/** One JSON object per line, as they come; an error after the first line is sent as a last `{"error"}` line. */
export async function sendNdjson(res: ServerResponse, items: AsyncIterable<unknown>): Promise<void> {
  const it = items[Symbol.asyncIterator]();
  let first: IteratorResult<unknown>;
  try {
    first = await it.next();
  } catch (err) {
    sendError(res, err);
    return;
  }
  res.statusCode = 200;
  apiHeaders(res, 'application/x-ndjson; charset=utf-8');
  try {
    let next = first;
    while (next.done !== true) {
      await write(res, `${JSON.stringify(next.value)}\n`);
      next = await it.next();
    }
  } catch (err) {
    if (!res.destroyed) res.write(`${JSON.stringify({ error: errorMessage(err) })}\n`);
  } finally {
    await it.return?.(undefined);
    res.end();
  }
}

/** Streams bytes with backpressure; a failure cuts the connection (the client sees a short body). */
export async function sendBytes(res: ServerResponse, data: AsyncIterable<Uint8Array>, onError: (err: unknown) => void): Promise<void> {
  try {
    for await (const chunk of data) await write(res, chunk);
    res.end();
  } catch (err) {
    if (!res.destroyed) onError(err);
    res.destroy();
  }
}
