/** Walking snapshot trees: depth first, a directory before its contents, names in byte order. */
import { type SafePath, toSafePath } from '../../entry.js';
import { SluiceError, UsageError } from '../../errors.js';
import { fromHex } from '../crypto/blob-id.js';
import type { Repository } from '../repository.js';
import { decodeTree, type DirNode, type Tree, type TreeNode } from './tree.js';

export interface WalkItem {
  /** Path inside the snapshot, without a leading slash. */
  path: SafePath;
  node: TreeNode;
}

export async function loadTree(repo: Repository, id: string): Promise<Tree> {
  return decodeTree(await repo.readBlob(fromHex(id), 'tree'), `tree ${id}`);
}

/** Every node below the tree `treeId`, whose own path is `prefix` ('' for the snapshot root). */
export async function* walkTree(repo: Repository, treeId: string, prefix: string): AsyncGenerator<WalkItem> {
  const tree = await loadTree(repo, treeId);
  for (const node of tree.nodes) {
    const path = toSafePath(prefix === '' ? node.name : `${prefix}/${node.name}`);
    yield { path, node };
    if (node.type === 'dir') yield* walkTree(repo, node.subtree, path);
  }
}

/** `/etc/hosts`, `etc/hosts`, `db.sql` → a SafePath; `` or `/` → '' (the root). */
export function snapshotPath(raw: string): SafePath | '' {
  const trimmed = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : toSafePath(trimmed);
}

/** The node at `path`; the root is returned as a directory node named ''. */
export async function findNode(repo: Repository, rootTree: string, path: SafePath | ''): Promise<TreeNode> {
  let node: TreeNode = { name: '', type: 'dir', mode: 0o755, mtime: 0, subtree: rootTree } satisfies DirNode;
  if (path === '') return node;
  let walked = '';
  for (const part of path.split('/')) {
    if (node.type !== 'dir') throw new UsageError(`"/${walked}" is not a directory in this snapshot`);
    const tree = await loadTree(repo, node.subtree);
    const next = tree.nodes.find((n) => n.name === part);
    walked = walked === '' ? part : `${walked}/${part}`;
    if (next === undefined) throw new SluiceError('E_NO_SUCH_PATH', `"/${walked}" is not in this snapshot`, { path: `/${walked}` });
    node = next;
  }
  return node;
}
