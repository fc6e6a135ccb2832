/**
 * A directory tree, arriving as entries in depth-first order (a directory before its contents, every
 * descendant of a directory before anything outside it), turned into tree blobs. A stack of open
 * directories: when an entry's parent is not the top, finished directories are written, deepest first.
 * Memory is the open directories' listings, never file contents.
 *
 * Nothing waits for a file where it is listed: large files are stored through the chunk pipeline, up to
 * FILES_AT_ONCE at once, small ones in batches on the workers; each directory's node is a promise that
 * settles when its files and subdirectories have, which keeps the tree order.
 */
import { join } from 'node:path';
import { type Entry, parentOf } from '../../../entry.js';
import { SluiceError } from '../../../errors.js';
import type { ContentWriter } from '../../content/content-writer.js';
import { SmallFileBatcher } from '../small-file-batcher.js';
import { encodeTree, type TreeNode } from '../tree.js';
import type { FileStorage } from './file-storage.js';
import { InFlight, Limit } from './in-flight.js';
import { type ArchiveProgress, baseName, type DirMeta, fileNode, nodeBase } from './nodes.js';
import type { Listing, ParentReuse } from './parent-reuse.js';

/** Large files stored through the chunk pipeline at once. */
const FILES_AT_ONCE = 8;
/** Small files per batch, and bytes (by stat size) per batch, for the workers. */
const BATCH_FILES = 64;
const BATCH_BYTES = 2 * 1024 * 1024;

interface OpenDir {
  path: string;
  meta: DirMeta;
  /** Finished nodes, and files still being stored (several files are stored at once). */
  nodes: (TreeNode | Promise<TreeNode>)[];
  /** The parent snapshot's listing of the same directory, when it has one. */
  previous: Listing | undefined;
}

export interface StackParts {
  session: ContentWriter;
  storage: FileStorage;
  reuse: ParentReuse;
  progress: ArchiveProgress;
  /** Counts a symlink stored. */
  onSymlink: () => void;
}

/**
 * Stores the entries (paths relative to the tree's root) and returns the root's nodes. With `readFrom`
 * (the directory on disk the paths are relative to), small files are read by path in batches on the
 * workers instead of through their entries' content.
 */
export async function storeTree(parts: StackParts, entries: AsyncIterable<Entry>, root: { meta: DirMeta; previous: Listing | undefined }, readFrom: string | undefined): Promise<TreeNode[]> {
  const { session, storage, reuse, progress } = parts;
  const stack: OpenDir[] = [{ path: '', meta: root.meta, nodes: [], previous: root.previous }];
  const work = new InFlight();
  const streaming = new Limit(FILES_AT_ONCE);
  const limit = storage.smallLimit;
  const batcher = readFrom === undefined ? undefined : new SmallFileBatcher(session, limit, { files: BATCH_FILES, bytes: BATCH_BYTES, inFlight: 2 * session.pool.sealers });
  const closeTop = (): void => {
    const done = stack.pop() as OpenDir;
    const top = stack[stack.length - 1] as OpenDir;
    const name = baseName(done.path);
    const node = Promise.all(done.nodes).then(async (nodes): Promise<TreeNode> => ({ ...nodeBase(name, done.meta), type: 'dir', subtree: await session.saveTree(encodeTree(nodes)) }));
    top.nodes.push(work.track(node));
    progress.dirs += 1;
  };
  try {
    for await (const entry of entries) {
      work.throwIfFailed();
      const parent = parentOf(entry.path) ?? '';
      while (stack.length > 1 && (stack[stack.length - 1] as OpenDir).path !== parent) closeTop();
      const top = stack[stack.length - 1] as OpenDir;
      if (top.path !== parent) {
        throw new SluiceError('E_WALK_ORDER', `entry ${JSON.stringify(entry.path)} arrived outside its directory (entries must come depth first)`, { path: entry.path });
      }
      const name = baseName(entry.path);
      progress.currentPath = entry.path;
      if (entry.kind === 'dir') {
        stack.push({ path: entry.path, meta: entry, nodes: [], previous: await reuse.listingOf(top.previous?.get(name)) });
      } else if (entry.kind === 'symlink') {
        top.nodes.push({ ...nodeBase(name, entry), type: 'symlink', target: entry.target });
        parts.onSymlink();
      } else {
        const before = top.previous?.get(name);
        const reused = before?.type === 'file' ? await reuse.reuse(before, entry) : undefined;
        if (reused !== undefined) {
          top.nodes.push(reused);
          progress.reusedFiles += 1;
          progress.bytes += reused.size;
        } else if (batcher !== undefined && readFrom !== undefined && entry.size !== undefined && entry.size <= limit) {
          const full = join(readFrom, entry.path);
          const queued = await batcher.add(full, entry.size);
          top.nodes.push(work.track(queued.result.then((result) => storage.smallFileNode(name, entry, full, result))));
        } else {
          await streaming.room();
          work.throwIfFailed();
          const stored = work.track((async (): Promise<TreeNode> => fileNode(session, name, entry, await storage.save(entry)))());
          streaming.add(stored);
          top.nodes.push(stored);
        }
        progress.files += 1;
      }
    }
    while (stack.length > 1) closeTop();
    await batcher?.drain();
  } finally {
    // Every file and directory settles before this returns (or throws), so nothing is added later.
    batcher?.flush();
    await work.settle();
  }
  work.throwIfFailed();
  return Promise.all((stack[0] as OpenDir).nodes);
}
