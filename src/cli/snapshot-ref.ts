/** `ID[:PATH]` / `latest[:PATH]` arguments of the repository commands (resolved by the jobs layer). */
export { type ResolvedRef, resolveRef, splitRef } from '../jobs/repository/ref.js';
