/** The node at a path of a snapshot, or undefined when the snapshot has nothing there. */
import type { SafePath } from '../../entry.js';
import type { Repository } from '../repository.js';
import type { DirNode, Tree, TreeNode } from '../snapshot/tree.js';
import { loadTree } from '../snapshot/walker.js';

/** `load` reads a tree by id (default: through the repository; the web UI passes its cache of decoded trees). */
export async function nodeAt(repo: Repository, rootTree: string, path: SafePath | '', load: (id: string) => Promise<Tree> = (id) => loadTree(repo, id)): Promise<TreeNode | undefined> {
  let node: TreeNode = { name: '', type: 'dir', mode: 0o755, mtime: 0, subtree: rootTree } satisfies DirNode;
  if (path === '') return node;
  for (const part of path.split('/')) {
    if (node.type !== 'dir') return undefined;
    const next: TreeNode | undefined = (await load(node.subtree)).nodes.find((n) => n.name === part);
    if (next === undefined) return undefined;
    node = next;
  }
  return node;
}
