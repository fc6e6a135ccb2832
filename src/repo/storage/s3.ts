/**
 * The S3 backend: object `a/b` of a repository at `s3:ENDPOINT/bucket/prefix` is the key `prefix/a/b`.
 *
 * - Create-once: every put carries `If-None-Match: *`; the server answers 412 when the key exists.
 *   `connect` probes that the server really honours it (a probe object put twice must give 412). A
 *   server that ignores it is refused unless `conditionalWrites: 'emulate'`, where a put checks with HEAD
 *   first (a race between two writers of one name is then possible; the repository's lock objects, which
 *   need only read-after-write listing, keep prune away from running backups).
 * - Bodies are sent as streams of the caller's parts (no concatenation); reads use ranged GETs.
 * - Retries: throttling, 5xx, timeouts and connection resets are retried with exponential backoff and
 *   full jitter, each retry reported through `onWarning`. 403, a missing bucket, bad credentials and
 *   clock skew fail at once, naming bucket, key and HTTP status.
 * - Credentials come from the SDK's default chain (environment, AWS_PROFILE, ...), never from the URL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SluiceError, UsageError } from '../../errors.js';
import {
  type ByteRange,
  checkObjectName,
  checkRange,
  ObjectExistsError,
  type ObjectInfo,
  ObjectNotFoundError,
  ObjectRangeError,
  type ObjectStore,
  totalLength,
} from './object-store.js';
import { formatS3Location, type S3Location } from './s3-location.js';

export { formatS3Location, parseS3Location, type S3Location } from './s3-location.js';

export interface RetryPolicy {
  /** Attempts per request, the first included (default 6). */
  attempts: number;
  /** First backoff (default 200 ms); doubles each retry up to `maxDelayMs` (default 10 s), full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface S3StoreOptions {
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`); default true when an endpoint is given. */
  pathStyle?: boolean;
  /** PEM file with extra CA certificates for TLS. */
  caFile?: string;
  /** HTTP connections kept per store (default 16). */
  maxSockets?: number;
  /** A request whose socket is idle this long fails and is retried (default 60 s); connect timeout (default 10 s). */
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** 'require' (default): refuse a server that ignores If-None-Match; 'emulate': HEAD before PUT, with a warning. */
  conditionalWrites?: 'require' | 'emulate';
  onWarning?: (message: string) => void;
  /** Keys per listing page (default: the server's, 1000). */
  listPageSize?: number;
  /** Test hook: the credentials to use instead of the default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  sleep?: (ms: number) => Promise<void>;
}

/** A request that failed for good: names the bucket, key and HTTP status. */
export class S3RequestError extends SluiceError {
  constructor(
    readonly operation: string,
    readonly bucket: string,
    readonly key: string | undefined,
    readonly status: number | undefined,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(
      'E_S3',
      `S3 ${operation} of bucket ${bucket}${key === undefined ? '' : ` key ${key}`} failed` +
        `${status === undefined ? '' : ` (HTTP ${status})`}: ${reason}`,
      {},
      options,
    );
  }
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode;
}

const RETRY_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
]);
const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

/** Whether trying again might succeed: throttling, 5xx, timeouts, broken connections. */
export function isTransient(err: unknown): boolean {
  const e = err as SdkError;
  const status = statusOf(err);
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  if (e.$retryable !== undefined) return true;
  if (RETRY_NAMES.has(e.name ?? '') || RETRY_CODES.has(e.code ?? '')) return true;
  const message = e.message ?? '';
  // A cut connection sometimes surfaces only as a message (the SDK wraps the socket error).
  if (/socket hang up|ECONNRESET|EPIPE|ECONNREFUSED|premature close|aborted|timed? ?out/i.test(message)) return true;
  // A response that ends early (the proxy cut it mid-body) also surfaces as a plain stream error.
  return status === undefined && e.name === 'Error' && /end|closed|terminated/i.test(message);
}

function reasonOf(err: unknown): string {
  const e = err as SdkError;
  const name = e.name ?? 'Error';
  const status = statusOf(err);
  if (status === 403) {
    if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') return `${name}: the credentials are wrong (check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)`;
    if (name === 'RequestTimeTooSkewed') return `${name}: this machine's clock differs too much from the server's`;
    return `${name}: access denied`;
  }
  if (name === 'CredentialsProviderError') return 'no credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)';
  const message = e.message !== undefined && e.message !== '' && e.message !== 'UnknownError' ? e.message : '';
  return message === '' || message === name ? name : `${name}: ${message}`;
}

function md5Hex(parts: readonly Uint8Array[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

export class S3Store implements ObjectStore {
  readonly location: string;
  readonly remote = true;
  readonly client: S3Client;
  readonly #loc: S3Location;
  readonly #retry: RetryPolicy;
  readonly #warn: (message: string) => void;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #conditional: 'require' | 'emulate';
  readonly #pageSize: number | undefined;
  /** Set by `connect`: whether the server honours If-None-Match. */
  #honoursConditional = true;

  constructor(loc: S3Location, options: S3StoreOptions = {}) {
    this.#loc = loc;
    this.location = formatS3Location(loc);
    this.#retry = { attempts: 6, baseDelayMs: 200, maxDelayMs: 10_000, ...options.retry };
    if (!Number.isInteger(this.#retry.attempts) || this.#retry.attempts < 1) throw new UsageError('S3 retry attempts must be a whole number >= 1');
    this.#warn = options.onWarning ?? (() => undefined);
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#conditional = options.conditionalWrites ?? 'require';
    this.#pageSize = options.listPageSize;
    const maxSockets = options.maxSockets ?? 16;
    let ca: Buffer | undefined;
    if (options.caFile !== undefined) {
      try {
        ca = readFileSync(options.caFile);
      } catch (err) {
        throw new UsageError(`cannot read the CA file ${options.caFile}: ${(err as Error).message}`);
      }
    }
    this.client = new S3Client({
      ...(loc.endpoint === undefined ? {} : { endpoint: loc.endpoint }),
      // Without one the SDK's own chain (AWS_REGION, the profile) decides.
      ...(options.region === undefined ? {} : { region: options.region }),
      forcePathStyle: options.pathStyle ?? loc.endpoint !== undefined,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      // Ceph (and other servers) refuse the aws-chunked bodies the default checksum mode sends.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Retries are ours: bounded, logged, and aware of create-once puts.
      maxAttempts: 1,
      requestHandler: {
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets, ...(ca === undefined ? {} : { ca }) }),
        // socketTimeout is the inactivity limit; the SDK's requestTimeout would only print a warning.
        socketTimeout: options.idleTimeoutMs ?? 60_000,
        connectionTimeout: options.connectTimeoutMs ?? 10_000,
      },
    });
  }

  get bucket(): string {
    return this.#loc.bucket;
  }

  /** Whether create-once comes from the server (true) or from the HEAD-then-PUT fallback (false). */
  get conditionalWrites(): boolean {
    return this.#honoursConditional;
  }

  key(name: string): string {
    return this.#loc.prefix === '' ? name : `${this.#loc.prefix}/${name}`;
  }

  /**
   * Checks the bucket (creating it when `create` and it is missing) and probes If-None-Match. Call once
   * before use.
   */
  async connect(create = false): Promise<void> {
    // A listing rather than HeadBucket: its error responses have a body, so 403s say why (bad key, skew...).
    try {
      await this.#send('ListObjectsV2', this.key('config'), () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key('config'), MaxKeys: 1 })),
      );
    } catch (err) {
      if (!(err instanceof S3RequestError) || err.status !== 404) throw err;
      if (!create) throw new S3RequestError('ListObjectsV2', this.bucket, undefined, 404, 'no such bucket (create it, or run `sluice init`)');
      await this.#send('CreateBucket', undefined, () => this.client.send(new CreateBucketCommand({ Bucket: this.bucket })));
    }
    await this.#probeConditional();
  }

  async #probeConditional(): Promise<void> {
    const key = this.key(`probe/${randomBytes(16).toString('hex')}`);
    const put = () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: 'probe', IfNoneMatch: '*' }));
    let honoured = false;
    try {
      await this.#send('PutObject (conditional-write probe)', key, put);
      try {
        await this.#send('PutObject (conditional-write probe)', key, put);
      } catch (err) {
        if (!(err instanceof S3RequestError) || (err.status !== 412 && err.status !== 409)) throw err;
        honoured = true;
      }
    } catch (err) {
      // 501: the server does not implement conditional PUT at all.
      if (!(err instanceof S3RequestError) || err.status !== 501) throw err;
    } finally {
      await this.#send('DeleteObject', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }))).catch(() => undefined);
    }
    this.#honoursConditional = honoured;
    if (honoured) return;
    if (this.#conditional === 'require') {
      throw new SluiceError(
        'E_S3_NO_CONDITIONAL_WRITES',
        `the S3 server at ${this.location} ignores If-None-Match: * (a second create of a probe object succeeded); ` +
          'objects could be overwritten. Pass --s3-no-conditional-writes to use it anyway (create-once is then emulated, ' +
          'and only the repository locks keep writers apart)',
      );
    }
    this.#warn(
      `the S3 server at ${this.location} does not honour If-None-Match: *; create-once is emulated with a HEAD before each PUT, ` +
        'and the repository lock objects are all that keeps concurrent writers apart (never run two `init`s at once)',
    );
  }

  async put(name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    checkObjectName(name);
    const key = this.key(name);
    const parts = data instanceof Uint8Array ? [data] : data;
    const length = totalLength(parts);
    if (!this.#honoursConditional && (await this.stat(name)) !== undefined) throw new ObjectExistsError(name);
    let attempts = 0;
    try {
      await this.#send('PutObject', key, () => {
        attempts += 1;
        const body = parts.length === 1 ? (parts[0] as Uint8Array) : Readable.from(parts, { objectMode: false });
        return this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentLength: length,
            ...(this.#honoursConditional ? { IfNoneMatch: '*' } : {}),
          }),
        );
      });
    } catch (err) {
      if (!(err instanceof S3RequestError) || (err.status !== 412 && err.status !== 409)) throw err;
      // A retried put may find the object its own earlier attempt stored before the connection broke.
      if (attempts > 1 && (await this.#sameContent(key, parts, length))) return;
      throw new ObjectExistsError(name);
    }
  }

  async #sameContent(key: string, parts: readonly Uint8Array[], length: number): Promise<boolean> {
    const head = await this.#send('HeadObject', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
    return head.ContentLength === length && head.ETag?.replaceAll('"', '') === md5Hex(parts);
  }

  async get(name: string, range?: ByteRange): Promise<Uint8Array> {
    checkObjectName(name);
    const key = this.key(name);
    checkRange(name, range, Number.MAX_SAFE_INTEGER);
    if (range !== undefined && range.length === 0) {
      const info = await this.stat(name);
      if (info === undefined) throw new ObjectNotFoundError(name);
      checkRange(name, range, info.size);
      return new Uint8Array(0);
    }
    try {
      return await this.#send('GetObject', key, async () => {
        const out = await this.client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: key,
            ...(range === undefined ? {} : { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }),
          }),
        );
        if (out.Body === undefined) throw new S3RequestError('GetObject', this.bucket, key, undefined, 'response without a body');
        const bytes = await out.Body.transformToByteArray();
        if (out.ContentLength !== undefined && bytes.length !== out.ContentLength) {
          // Cut off mid-body: transient, read again.
          throw Object.assign(new Error(`response body ended after ${bytes.length} of ${out.ContentLength} bytes`), { code: 'ECONNRESET' });
        }
        if (range !== undefined && bytes.length !== range.length) {
          const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
          throw new ObjectRangeError(name, range, total === undefined ? range.offset + bytes.length : Number(total));
        }
        return bytes;
      });
    } catch (err) {
      if (err instanceof S3RequestError && err.status === 404) throw new ObjectNotFoundError(name, { cause: err });
      if (err instanceof S3RequestError && err.status === 416 && range !== undefined) {
        const info = await this.stat(name);
        throw new ObjectRangeError(name, range, info?.size ?? 0);
      }
      throw err;
    }
  }

  async stat(name: string): Promise<ObjectInfo | undefined> {
    checkObjectName(name);
    const key = this.key(name);
    try {
      const head = await this.#send('HeadObject', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return { name, size: head.ContentLength ?? 0, ...(head.LastModified === undefined ? {} : { mtimeMs: head.LastModified.getTime() }) };
    } catch (err) {
      if (err instanceof S3RequestError && err.status === 404) return undefined;
      throw err;
    }
  }

  async *list(prefix: string): AsyncGenerator<ObjectInfo> {
    const base = this.#loc.prefix === '' ? '' : `${this.#loc.prefix}/`;
    let token: string | undefined;
    do {
      const page = await this.#send('ListObjectsV2', base + prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: base + prefix,
            ...(this.#pageSize === undefined ? {} : { MaxKeys: this.#pageSize }),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(base.length);
        if (name === undefined || !object.Key?.startsWith(base) || name.startsWith('probe/')) continue;
        try {
          checkObjectName(name);
        } catch {
          continue; // not ours (written by something else into the same prefix)
        }
        yield { name, size: object.Size ?? 0, ...(object.LastModified === undefined ? {} : { mtimeMs: object.LastModified.getTime() }) };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(name: string): Promise<void> {
    checkObjectName(name);
    const key = this.key(name);
    try {
      await this.#send('DeleteObject', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
    } catch (err) {
      if (!(err instanceof S3RequestError) || err.status !== 404) throw err;
    }
  }

  /** Deletes up to 1000 objects per request. */
  async deleteMany(names: readonly string[]): Promise<void> {
    for (const name of names) checkObjectName(name);
    for (let i = 0; i < names.length; i += 1000) {
      const keys = names.slice(i, i + 1000).map((n) => this.key(n));
      const out = await this.#send('DeleteObjects', keys[0], () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })),
      );
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0];
        throw new S3RequestError('DeleteObjects', this.bucket, first?.Key, undefined, `${failed.length} object(s) not deleted: ${first?.Code ?? '?'} ${first?.Message ?? ''}`.trim());
      }
    }
  }

  /** One request with bounded retries; failures that cannot succeed become S3RequestError at once. */
  async #send<T>(operation: string, key: string | undefined, request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (err) {
        if (err instanceof SluiceError) throw err;
        const status = statusOf(err);
        if (attempt >= this.#retry.attempts || !isTransient(err)) {
          throw new S3RequestError(
            operation,
            this.bucket,
            key,
            status,
            `${reasonOf(err)}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`,
            { cause: err },
          );
        }
        const cap = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
        const delay = Math.floor(Math.random() * cap);
        this.#warn(
          `S3 ${operation} of ${this.bucket}${key === undefined ? '' : `/${key}`} failed (${status === undefined ? '' : `HTTP ${status}, `}${reasonOf(err)}); ` +
            `retry ${attempt} of ${this.#retry.attempts - 1} in ${delay} ms`,
        );
        await this.#sleep(delay);
      }
    }
  }

  /** Closes the connections (the process can exit without waiting for keep-alive sockets). */
  destroy(): void {
    this.client.destroy();
  }
}
