/**
 * The top of a snapshot: directories that no source supplies but that lead to one (`var` and `var/www`
 * for /var/www/html), with the sources' nodes placed in them. Written last, when the snapshot commits.
 */
import { UsageError } from '../../../errors.js';
import type { ContentWriter } from '../../content/content-writer.js';
import { encodeTree, type TreeNode } from '../tree.js';
import { type DirMeta, nodeBase } from './nodes.js';

interface VirtualDir {
  meta: DirMeta | undefined;
  children: Map<string, VirtualDir | TreeNode>;
}

function isVirtual(x: VirtualDir | TreeNode): x is VirtualDir {
  return 'children' in x;
}

export class VirtualRoot {
  readonly #root: VirtualDir = { meta: undefined, children: new Map() };

  /** `fallbackMtimeMs`: the mtime of a directory on the way whose metadata was never set. */
  constructor(readonly fallbackMtimeMs: number) {}

  /** Sets the metadata of a directory on the way to a source. */
  setMeta(path: string, meta: DirMeta): void {
    this.#dir(path).meta = meta;
  }

  /** Sets the root's metadata unless it has some already. */
  setRootMetaOnce(meta: DirMeta): void {
    this.#root.meta ??= meta;
  }

  /** Puts a source's node at `parentPath/name`; two sources may not claim one place. */
  place(name: string, node: TreeNode, parentPath: string): void {
    const dir = this.#dir(parentPath);
    if (dir.children.has(name)) {
      const full = parentPath === '' ? name : `${parentPath}/${name}`;
      throw new UsageError(`two sources want the same place in the snapshot: "${full}"`);
    }
    dir.children.set(name, node);
  }

  /** Stores the virtual directories as trees, deepest first; returns the root tree's id. */
  write(session: ContentWriter): Promise<string> {
    return this.#write(session, this.#root);
  }

  async #write(session: ContentWriter, dir: VirtualDir): Promise<string> {
    const nodes: TreeNode[] = [];
    for (const [name, child] of dir.children) {
      if (isVirtual(child)) {
        const subtree = await this.#write(session, child);
        nodes.push({ ...nodeBase(name, child.meta ?? { mode: 0o755, mtimeMs: this.fallbackMtimeMs }), type: 'dir', subtree });
      } else {
        nodes.push(child);
      }
    }
    return session.saveTree(encodeTree(nodes));
  }

  #dir(path: string): VirtualDir {
    let dir = this.#root;
    if (path === '') return dir;
    for (const part of path.split('/')) {
      let next = dir.children.get(part);
      if (next === undefined) dir.children.set(part, (next = { meta: undefined, children: new Map() }));
      if (!isVirtual(next)) throw new UsageError(`"${path}" is both a directory on the way to another source and a file or stream`);
      dir = next;
    }
    return dir;
  }
}
