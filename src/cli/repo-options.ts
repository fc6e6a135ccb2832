/**
 * What every repository command shares: where the repository is (`--repo` / SLUICE_REPO), the password
 * (`--password-file` / SLUICE_PASSWORD_FILE / SLUICE_PASSWORD / a prompt on a terminal), the local cache,
 * locking, and turning a session into a repository, a lock and a clean shutdown.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseKdfParams, type ScryptParams } from '../repo/keys.js';
import { clientInfo, type OpenedRepository, openRepository as openRepositoryJob } from '../jobs/repository/open.js';
import type { ObjectStore } from '../repo/storage/object-store.js';
import type { S3StoreOptions } from '../repo/storage/s3.js';
import type { CliContext } from './context.js';
import { warn } from './log.js';
import { askHidden } from './password-prompt.js';

export interface RepoOptions {
  repo?: string;
  passwordFile?: string;
  cacheDir?: string;
  cache?: boolean;
  retryLock?: string;
  json?: boolean;
  s3NoConditionalWrites?: boolean;
  s3CaFile?: string;
  s3Region?: string;
  s3VirtualHost?: boolean;
  s3Retries?: string;
}

export function addRepoOptions(command: Command): Command {
  return command
    .option('-r, --repo <path>', 'repository location (default: $SLUICE_REPO)')
    .option('-p, --password-file <file>', 'read the password from the first line of this file (default: $SLUICE_PASSWORD_FILE)')
    .option('--cache-dir <dir>', 'local cache directory (default: $SLUICE_CACHE_DIR or ~/.cache/sluice)')
    .option('--no-cache', 'do not use or fill the local cache')
    .option('--retry-lock <duration>', 'keep trying this long when the repository is locked (e.g. 30s, 5m)', '0')
    .option('--s3-no-conditional-writes', 'use an S3 server that ignores If-None-Match (create-once emulated; see docs)')
    .option('--s3-ca-file <file>', 'extra CA certificates (PEM) for an https S3 endpoint (default: $SLUICE_S3_CA_FILE, $AWS_CA_BUNDLE)')
    .option('--s3-region <region>', 'S3 region (default: $AWS_REGION or us-east-1)')
    .option('--s3-virtual-host', 'virtual-hosted addressing (bucket.endpoint) instead of path-style for an explicit endpoint')
    .option('--s3-retries <n>', 'attempts per S3 request, the first included (default 6)');
}

export function repoLocation(ctx: CliContext, options: RepoOptions): string {
  const location = options.repo ?? ctx.env.SLUICE_REPO;
  if (location === undefined || location === '') throw new UsageError('no repository: pass --repo PATH or set SLUICE_REPO');
  return location.startsWith('s3:') ? location : resolve(location);
}

/** S3 client settings from the command line and the environment (credentials stay with the SDK's chain). */
export function s3Options(ctx: CliContext, options: RepoOptions): S3StoreOptions {
  const ca = options.s3CaFile ?? ctx.env.SLUICE_S3_CA_FILE ?? ctx.env.AWS_CA_BUNDLE;
  const region = options.s3Region ?? ctx.env.AWS_REGION ?? ctx.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // The SDK's notice about its future Node requirement is for developers; users' stderr is for our messages.
  ctx.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let attempts: number | undefined;
  if (options.s3Retries !== undefined) {
    attempts = Number(options.s3Retries);
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) throw new UsageError(`--s3-retries: "${options.s3Retries}" is not a whole number from 1 to 100`);
  }
  return {
    conditionalWrites: options.s3NoConditionalWrites === true ? 'emulate' : 'require',
    onWarning: (message) => warn(ctx, message),
    ...(ca === undefined || ca === '' ? {} : { caFile: ca }),
    ...(region === undefined || region === '' ? {} : { region }),
    ...(options.s3VirtualHost === true ? { pathStyle: false } : {}),
    ...(attempts === undefined ? {} : { retry: { attempts } }),
  };
}

function firstLine(text: string): string {
  const newline = text.search(/\r?\n/);
  return newline < 0 ? text : text.slice(0, newline);
}

function passwordFromFileOrEnv(ctx: CliContext, file: string | undefined): string | undefined {
  const path = file ?? ctx.env.SLUICE_PASSWORD_FILE;
  if (path !== undefined && path !== '') {
    try {
      return firstLine(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read the password file ${path}: ${(err as Error).message}`);
    }
  }
  return ctx.env.SLUICE_PASSWORD;
}

function onTerminal(ctx: CliContext): boolean {
  return ctx.stdin.isTTY === true && ctx.stderr.isTTY === true;
}

const NO_PASSWORD = 'no password: pass --password-file FILE or set SLUICE_PASSWORD_FILE (or SLUICE_PASSWORD)';

/** The password from a file, the environment, or (on a terminal) a prompt that does not echo. */
export async function readPassword(ctx: CliContext, options: { passwordFile?: string }, prompt = 'repository password: '): Promise<string> {
  const known = passwordFromFileOrEnv(ctx, options.passwordFile);
  if (known !== undefined) return known;
  if (!onTerminal(ctx)) throw new UsageError(NO_PASSWORD);
  const [answer] = await askHidden(ctx.stdin, ctx.stderr, [prompt], ctx.signal);
  return answer as string;
}

/** A password typed for something new is asked twice: a typo there would lock the data away for good. */
async function askTwice(ctx: CliContext, prompts: readonly [string, string], notDone: string): Promise<string> {
  const [first, again] = await askHidden(ctx.stdin, ctx.stderr, prompts, ctx.signal);
  if (first !== again) throw new UsageError(`the two passwords differ: ${notDone}`);
  if (first === '') throw new UsageError(`the password is empty: ${notDone}`);
  return first as string;
}

/** The password of a repository being created (`init`): like readPassword, but a prompt asks twice. */
export async function readInitPassword(ctx: CliContext, options: { passwordFile?: string }): Promise<string> {
  const known = passwordFromFileOrEnv(ctx, options.passwordFile);
  if (known !== undefined) return known;
  if (!onTerminal(ctx)) throw new UsageError(NO_PASSWORD);
  return askTwice(ctx, ['enter password for the new repository: ', 'enter password again: '], 'no repository was created');
}

/**
 * A second password (for `key add` / `key passwd`): --new-password-file, SLUICE_NEW_PASSWORD_FILE, or a prompt
 * asked twice. `notDone` tells the user what a mismatch left undone.
 */
export async function readNewPassword(ctx: CliContext, file: string | undefined, notDone: string): Promise<string> {
  const path = file ?? ctx.env.SLUICE_NEW_PASSWORD_FILE;
  if (path !== undefined && path !== '') return readPassword(ctx, { passwordFile: path });
  if (onTerminal(ctx)) return askTwice(ctx, ['enter new password: ', 'enter new password again: '], notDone);
  throw new UsageError('no new password: pass --new-password-file FILE or set SLUICE_NEW_PASSWORD_FILE');
}

/** KDF parameters for new key files: --kdf, else $SLUICE_KDF (tests use cheap ones), else the defaults. */
export function kdfParams(ctx: CliContext, option: string | undefined): ScryptParams | undefined {
  const text = option ?? ctx.env.SLUICE_KDF;
  return text === undefined || text === '' ? undefined : parseKdfParams(text);
}

/** The cache directory the options and environment choose (undefined with --no-cache). */
export function cacheDir(ctx: CliContext, options: RepoOptions): string | undefined {
  if (options.cache === false) return undefined;
  return options.cacheDir ?? ctx.env.SLUICE_CACHE_DIR ?? join(ctx.env.XDG_CACHE_HOME ?? join(ctx.env.HOME ?? homedir(), '.cache'), 'sluice');
}

/** $USER when the OS knows no name for this user. */
export function userName(ctx: CliContext): string {
  const user = clientInfo().user;
  return user === '' ? (ctx.env.USER ?? '') : user;
}

/** `30s`, `5m`, `2h`, `1d`, `500ms`, or plain seconds → milliseconds. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`${option}: "${text}" is not a duration (examples: 30s, 5m, 2h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

/** Opens the repository, unlocks it with the password (asked only once it is known to exist), and takes a lock unless `lock` is 'none'. */
export async function openRepository(
  ctx: CliContext,
  options: RepoOptions,
  lock: { exclusive: boolean; purpose: string } | 'none',
  extra: { host?: string; store?: ObjectStore; password?: () => Promise<string> } = {},
): Promise<OpenedRepository> {
  const location = extra.store === undefined ? repoLocation(ctx, options) : extra.store.location;
  const s3 = s3Options(ctx, options);
  const retryLockMs = parseDuration(options.retryLock ?? '0', '--retry-lock');
  const cache = cacheDir(ctx, options);
  return openRepositoryJob({
    location,
    s3,
    password: extra.password ?? (() => readPassword(ctx, options)),
    ...(cache === undefined ? {} : { cacheDir: cache }),
    ...(lock === 'none' ? { lock: 'none' } : { lock: lock.exclusive ? 'exclusive' : 'shared', purpose: lock.purpose }),
    retryLockMs,
    client: { user: userName(ctx), ...(extra.host === undefined ? {} : { host: extra.host }) },
    ...(extra.store === undefined ? {} : { store: extra.store }),
    onWarning: (message) => warn(ctx, message),
  });
}

/** Writes one JSON document (and a newline) to stdout. */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
