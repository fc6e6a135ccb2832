/**
 * Reuse of a parent snapshot: its listing of each directory being stored, and whether a file may keep the
 * parent's content without being read (same size, mtime and mode, and every blob still indexed).
 */
import type { Entry } from '../../../entry.js';
import { fromHex } from '../../crypto/blob-id.js';
import type { Repository } from '../../repository.js';
import type { Snapshot } from '../snapshots.js';
import { decodeIdList, decodeTree, type FileNode, type TreeNode } from '../tree.js';

export type Listing = Map<string, TreeNode>;

export class ParentReuse {
  readonly #repo: Repository;
  readonly #parent: { id: string; snapshot: Snapshot } | undefined;
  readonly #onWarning: ((message: string) => void) | undefined;
  #root: Listing | undefined | null = null;

  constructor(repo: Repository, parent: { id: string; snapshot: Snapshot } | undefined, onWarning?: (message: string) => void) {
    this.#repo = repo;
    this.#parent = parent;
    this.#onWarning = onWarning;
  }

  /** A tree's entries by name; an unreadable tree is warned about and means "read everything again". */
  async listing(treeId: string): Promise<Listing | undefined> {
    try {
      const tree = decodeTree(await this.#repo.readBlob(fromHex(treeId), 'tree'), `tree ${treeId}`);
      return new Map(tree.nodes.map((n) => [n.name, n]));
    } catch (err) {
      this.#onWarning?.(`parent snapshot tree ${treeId.slice(0, 12)} is unreadable, reading files again: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** The parent's listing of the same directory as `before` (a node of a parent listing), if it was one. */
  async listingOf(before: TreeNode | undefined): Promise<Listing | undefined> {
    return before?.type === 'dir' ? this.listing(before.subtree) : undefined;
  }

  /** The parent snapshot's listing of the directory at `at` ('' for the root). */
  async listingAt(at: string): Promise<Listing | undefined> {
    if (this.#parent === undefined) return undefined;
    if (this.#root === null) this.#root = await this.listing(this.#parent.snapshot.tree);
    let listing = this.#root;
    if (at === '') return listing;
    for (const part of at.split('/')) {
      const node = listing?.get(part);
      if (node?.type !== 'dir') return undefined;
      listing = await this.listing(node.subtree);
    }
    return listing;
  }

  /** The parent's node for this file, with the owner the file has now, if its content can be reused unread. */
  async reuse(before: FileNode, entry: Entry & { kind: 'file' }): Promise<FileNode | undefined> {
    if (before.stream !== undefined || entry.size === undefined) return undefined;
    if (before.size !== entry.size || before.mtime !== entry.mtimeMs || before.mode !== entry.mode) return undefined;
    const index = this.#repo.index;
    try {
      if (before.content !== undefined) {
        if (!before.content.every((id) => index.has(fromHex(id)))) return undefined;
      } else if (before.contentLists !== undefined) {
        for (const list of before.contentLists) {
          const ids = decodeIdList(await this.#repo.readBlob(fromHex(list), 'tree'), `list ${list}`);
          if (!ids.every((id) => index.has(id))) return undefined;
        }
      } else if (before.size !== 0) {
        return undefined;
      }
    } catch {
      return undefined;
    }
    return { ...before, name: before.name, ...(entry.uid === undefined ? {} : { uid: entry.uid }), ...(entry.gid === undefined ? {} : { gid: entry.gid }) };
  }
}
