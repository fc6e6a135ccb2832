/**
 * Where the S3 tests find their server: S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, as written
 * to s3.env by .ci/s3/start-s3-server.sh (.ci/run sources it). Without them the S3 tests are skipped with a
 * loud reason, unless SLUICE_REQUIRE_S3=1 (CI sets it), where they fail instead.
 */
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { S3Store, type S3StoreOptions } from '../../src/repo/storage/s3.js';

export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function s3Server(): S3Server | undefined {
  const endpoint = process.env.S3_ENDPOINT;
  const accessKeyId = process.env.S3_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.S3_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY;
  if (endpoint === undefined || endpoint === '' || accessKeyId === undefined || secretAccessKey === undefined) {
    if (process.env.SLUICE_REQUIRE_S3 === '1') throw new Error('SLUICE_REQUIRE_S3=1 but S3_ENDPOINT/S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY are not set');
    return undefined;
  }
  return { endpoint, accessKeyId, secretAccessKey };
}

export const SKIP_REASON =
  'SKIPPED: no S3 server configured (set S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, e.g. `source /tmp/s3-server-7480/s3.env` after .ci/s3/start-s3-server.sh)';

/** Says loudly, once per file, that the S3 tests did not run. */
export function announceSkip(file: string): void {
  process.stderr.write(`\n*** ${file}: S3 tests ${SKIP_REASON} ***\n\n`);
}

export function testBucket(): string {
  return `sluice-test-${randomBytes(5).toString('hex')}`;
}

/** Environment for a sluice child process talking to the server. */
export function s3Env(server: S3Server): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: 'us-east-1', AWS_PROFILE: '' };
}

export function s3Store(server: S3Server, bucket: string, prefix: string, options: S3StoreOptions = {}, endpoint = server.endpoint): S3Store {
  return new S3Store(
    { endpoint, bucket, prefix },
    { credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, region: 'us-east-1', ...options },
  );
}

/** Empties and deletes the bucket (after every test of a file). */
export async function removeBucket(server: S3Server, bucket: string): Promise<void> {
  const store = s3Store(server, bucket, '');
  try {
    const names: string[] = [];
    for await (const info of store.list('')) names.push(info.name);
    await store.deleteMany(names);
    await store.client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  } finally {
    store.destroy();
  }
}

/** A connected store on a fresh prefix of `bucket`, closed after the test. */
export async function freshStore(t: TestContext, server: S3Server, bucket: string, options: S3StoreOptions = {}): Promise<S3Store> {
  const store = s3Store(server, bucket, `t-${randomBytes(6).toString('hex')}`, options);
  t.after(() => store.destroy());
  await store.connect(true);
  return store;
}
