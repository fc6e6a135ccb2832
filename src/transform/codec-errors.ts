/** Worker failures and decoder errors turned into SluiceErrors that name the file and the place in it. */
import { FormatError, IntegrityError, SluiceError, type Where } from '../errors.js';
import { JobError } from './pool/job-failure.js';

/** Turns a worker's failure into an error naming the file and the place in it. */
export function codecError(err: unknown, what: string, where: Where): SluiceError | unknown {
  if (!(err instanceof JobError)) return err;
  const f = err.failure;
  const message = `${what}: ${f.message}`;
  return f.integrity === true ? new IntegrityError(f.code, message, where) : new FormatError(f.code, message, where);
}

/** Adds the file name to decoder errors that lack it (for example the ByteReader's truncation errors). */
export function locate(err: unknown, path: string): unknown {
  if (!(err instanceof SluiceError) || err.where.path !== undefined) return err;
  const detail = err.message.replace(/ \[[^\]]*\]$/, '');
  const where = { ...err.where, path };
  if (err instanceof IntegrityError) return new IntegrityError(err.code, detail, where, { cause: err });
  if (err instanceof FormatError) return new FormatError(err.code, detail, where, { cause: err, exitCode: err.exitCode });
  return err;
}
