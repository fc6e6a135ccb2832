/**
 * Errors carry a stable code, where they happened, and the exit status the CLI should use.
 * Only src/cli/ turns them into an exit status; everything else just throws.
 */

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** Work finished, but some items were skipped (restic's 3). */
  incomplete: 3,
  /** Data failed an integrity check: CRC, digest, authentication tag. */
  integrity: 4,
  repositoryMissing: 10,
  locked: 11,
  wrongPassword: 12,
  /** A defect in sluice itself (sysexits' EX_SOFTWARE): reported as a bug, never as a bare TypeError. */
  internal: 70,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface Where {
  /** The file or object the problem belongs to. */
  path?: string;
  /** Byte offset in the input stream. */
  offset?: number;
  /** 1-based chunk (record) number in the input stream. */
  chunk?: number;
  /** Repository object id. */
  object?: string;
}

export class SluiceError extends Error {
  readonly exitCode: ExitCode;
  readonly where: Where;
  constructor(
    readonly code: string,
    /** The message without the location. */
    readonly detail: string,
    where: Where = {},
    options?: ErrorOptions & { exitCode?: ExitCode },
  ) {
    super(detail + describeWhere(where), options);
    this.name = new.target.name;
    this.where = { ...where };
    this.exitCode = options?.exitCode ?? ExitCode.failure;
  }

  /** Fills in location fields the thrower did not know (an outer parser knows the chunk number). */
  addContext(where: Where): this {
    for (const [key, value] of Object.entries(where) as [keyof Where, never][]) {
      if (this.where[key] === undefined && value !== undefined) this.where[key] = value;
    }
    this.message = this.detail + describeWhere(this.where);
    return this;
  }
}

/** Adds location fields to a SluiceError passing through; other errors are returned unchanged. */
export function withContext(err: unknown, where: Where): unknown {
  return err instanceof SluiceError ? err.addContext(where) : err;
}

/** Malformed, truncated or hostile input. */
export class FormatError extends SluiceError {}

/** Data whose checksum, digest or authentication tag does not match. */
export class IntegrityError extends SluiceError {
  constructor(code: string, message: string, where: Where = {}, options?: ErrorOptions) {
    super(code, message, where, { ...options, exitCode: ExitCode.integrity });
  }
}

/** A path that would escape, or is not allowed in, a target directory. */
export class UnsafePathError extends SluiceError {}

export class UsageError extends SluiceError {
  constructor(message: string) {
    super('E_USAGE', message, {}, { exitCode: ExitCode.usage });
  }
}

function describeWhere(where: Where): string {
  const parts: string[] = [];
  if (where.path !== undefined) parts.push(`file ${JSON.stringify(where.path)}`);
  if (where.chunk !== undefined) parts.push(`chunk ${where.chunk}`);
  if (where.offset !== undefined) parts.push(`stream offset ${where.offset} (0x${where.offset.toString(16)})`);
  if (where.object !== undefined) parts.push(`object ${where.object}`);
  return parts.length > 0 ? ` [${parts.join(', ')}]` : '';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
