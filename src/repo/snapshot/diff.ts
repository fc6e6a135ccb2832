/**
 * Differences between two snapshot trees: added, removed, modified (content or metadata), and type
 * changes. Subtrees with the same id are equal and skipped without being read.
 */
import type { Repository } from '../repository.js';
import { compareNames, type TreeNode } from './tree.js';
import { loadTree, walkTree } from './walker.js';

export interface DiffItem {
  change: '+' | '-' | 'M' | 'T' | 'U';
  path: string;
  type: TreeNode['type'];
  /** For M: what changed. */
  what?: string[];
}

function contentKey(n: TreeNode): string {
  if (n.type === 'file') return `${n.sha256}:${n.size}`;
  if (n.type === 'symlink') return n.target;
  return '';
}

export async function* diffTrees(repo: Repository, a: string | undefined, b: string | undefined, prefix: string): AsyncGenerator<DiffItem> {
  if (a === b) return;
  const left = a === undefined ? [] : (await loadTree(repo, a)).nodes;
  const right = b === undefined ? [] : (await loadTree(repo, b)).nodes;
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const l = left[i];
    const r = right[j];
    const order = l === undefined ? 1 : r === undefined ? -1 : compareNames(l.name, r.name);
    if (order < 0 && l !== undefined) {
      yield* removedOrAdded(repo, '-', l, prefix);
      i += 1;
    } else if (order > 0 && r !== undefined) {
      yield* removedOrAdded(repo, '+', r, prefix);
      j += 1;
    } else if (l !== undefined && r !== undefined) {
      const path = `${prefix}/${l.name}`;
      if (l.type !== r.type) {
        yield { change: 'T', path, type: r.type };
        if (l.type === 'dir') yield* diffTrees(repo, l.subtree, undefined, path);
        if (r.type === 'dir') yield* diffTrees(repo, undefined, r.subtree, path);
      } else if (l.type === 'dir' && r.type === 'dir') {
        if (l.mode !== r.mode) yield { change: 'U', path: `${path}/`, type: 'dir', what: ['mode'] };
        yield* diffTrees(repo, l.subtree, r.subtree, path);
      } else {
        const what: string[] = [];
        if (contentKey(l) !== contentKey(r)) what.push('content');
        if (l.mode !== r.mode) what.push('mode');
        if (l.mtime !== r.mtime) what.push('mtime');
        if (what.includes('content')) yield { change: 'M', path, type: r.type, what };
        else if (what.length > 0) yield { change: 'U', path, type: r.type, what };
      }
      i += 1;
      j += 1;
    }
  }
}

async function* removedOrAdded(repo: Repository, change: '+' | '-', node: TreeNode, prefix: string): AsyncGenerator<DiffItem> {
  const path = `${prefix}/${node.name}`;
  yield { change, path: node.type === 'dir' ? `${path}/` : path, type: node.type };
  if (node.type === 'dir') {
    for await (const item of walkTree(repo, node.subtree, path.slice(1))) {
      yield { change, path: `/${item.path}${item.node.type === 'dir' ? '/' : ''}`, type: item.node.type };
    }
  }
}
