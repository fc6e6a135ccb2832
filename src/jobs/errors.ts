/** The errors every job throws: a SluiceError has a `code` (E_...) and the `exitCode` the CLI would exit with. */
export { ExitCode, FormatError, IntegrityError, SluiceError, UnsafePathError, UsageError } from '../errors.js';
