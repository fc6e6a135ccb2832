/**
 * Where an S3 repository is: `s3:[http(s)://endpoint/]bucket[/prefix]`. Apart from s3.ts so that parsing a
 * location does not load the AWS SDK, which only a repository on S3 needs.
 */
import { UsageError } from '../../errors.js';

export interface S3Location {
  /** `http(s)://host[:port]`, or undefined for the SDK's default (AWS, or AWS_ENDPOINT_URL). */
  endpoint?: string;
  bucket: string;
  /** Key prefix without leading or trailing slash ('' for the bucket's root). */
  prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3:[http(s)://host[:port]/]bucket[/prefix]`. */
export function parseS3Location(text: string): S3Location {
  if (!text.startsWith('s3:')) throw new UsageError(`repository "${text}": an S3 location starts with s3:`);
  let rest = text.slice(3);
  let endpoint: string | undefined;
  const scheme = /^(https?):\/\//i.exec(rest);
  if (scheme !== null) {
    const slash = rest.indexOf('/', scheme[0].length);
    const hostPart = slash < 0 ? rest : rest.slice(0, slash);
    let url: URL;
    try {
      url = new URL(hostPart);
    } catch {
      throw new UsageError(`repository "${text}": "${hostPart}" is not an endpoint URL`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new UsageError('S3 repository: credentials do not belong in the URL; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE');
    }
    endpoint = `${url.protocol}//${url.host}`;
    rest = slash < 0 ? '' : rest.slice(slash + 1);
  } else if (rest.startsWith('//')) {
    rest = rest.slice(2);
  }
  const parts = rest.split('/').filter((p) => p !== '');
  const bucket = parts.shift();
  if (bucket === undefined) throw new UsageError(`repository "${text}": no bucket (s3:[http(s)://endpoint/]bucket[/prefix])`);
  if (!BUCKET.test(bucket)) throw new UsageError(`repository "${text}": "${bucket}" is not a valid bucket name`);
  for (const p of parts) {
    if (p === '.' || p === '..' || !/^[A-Za-z0-9._-]+$/.test(p)) throw new UsageError(`repository "${text}": prefix segment "${p}" is not allowed`);
  }
  return { ...(endpoint === undefined ? {} : { endpoint }), bucket, prefix: parts.join('/') };
}

export function formatS3Location(loc: S3Location): string {
  return `s3:${loc.endpoint === undefined ? '' : `${loc.endpoint}/`}${loc.bucket}${loc.prefix === '' ? '' : `/${loc.prefix}`}`;
}
