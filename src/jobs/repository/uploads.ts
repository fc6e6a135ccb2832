/** How many packs a job uploads at once by default. */
import type { ObjectStore } from '../../repo/storage/object-store.js';

/** Object storage gains from more requests in flight; a local disk does not. Each one holds a pack in memory. */
export function defaultUploads(store: ObjectStore): number {
  return store.remote === true ? 4 : 2;
}
