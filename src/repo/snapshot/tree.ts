/**
 * Tree blobs: one directory listing each, as deterministic JSON (fixed key order, nodes sorted by name in
 * byte order) so an unchanged directory produces the same bytes, hence the same blob id, and deduplicates.
 *
 * A file's content is a list of data blob ids; past INLINE_CHUNKS chunks the ids go into "list" blobs
 * (tree blobs holding up to LIST_IDS raw 32-byte ids) referenced by `contentLists`, so a huge stream
 * keeps its tree node small. Named streams carry how they were produced.
 */
import { FormatError } from '../../errors.js';
import { Limits } from '../format.js';

export const INLINE_CHUNKS = 1024;
export const LIST_IDS = 4096;

export interface NodeBase {
  name: string;
  mode: number;
  /** Modification time in ms since the epoch. */
  mtime: number;
  uid?: number;
  gid?: number;
}

export interface StreamInfo {
  source: 'stdin' | 'command';
  command?: string[];
  exitCode?: number;
  signal?: string;
  /** The last bytes the command wrote to stderr (UTF-8, possibly cut). */
  stderrTail?: string;
}

export interface FileNode extends NodeBase {
  type: 'file';
  size: number;
  sha256: string;
  /** Data blob ids (hex), when the file has at most INLINE_CHUNKS chunks. */
  content?: string[];
  /** List blob ids (hex), each holding up to LIST_IDS data blob ids. */
  contentLists?: string[];
  /** Set for named streams (stdin or a command's output). */
  stream?: StreamInfo;
}

export interface DirNode extends NodeBase {
  type: 'dir';
  subtree: string;
}

export interface SymlinkNode extends NodeBase {
  type: 'symlink';
  target: string;
}

export type TreeNode = FileNode | DirNode | SymlinkNode;

export interface Tree {
  nodes: TreeNode[];
}

const HEX64 = /^[0-9a-f]{64}$/;

export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function orderedNode(n: TreeNode): Record<string, unknown> {
  const base: Record<string, unknown> = { name: n.name, type: n.type, mode: n.mode, mtime: n.mtime };
  if (n.uid !== undefined) base.uid = n.uid;
  if (n.gid !== undefined) base.gid = n.gid;
  if (n.type === 'dir') base.subtree = n.subtree;
  else if (n.type === 'symlink') base.target = n.target;
  else {
    base.size = n.size;
    base.sha256 = n.sha256;
    if (n.content !== undefined) base.content = n.content;
    if (n.contentLists !== undefined) base.contentLists = n.contentLists;
    if (n.stream !== undefined) {
      const s: Record<string, unknown> = { source: n.stream.source };
      if (n.stream.command !== undefined) s.command = n.stream.command;
      if (n.stream.exitCode !== undefined) s.exitCode = n.stream.exitCode;
      if (n.stream.signal !== undefined) s.signal = n.stream.signal;
      if (n.stream.stderrTail !== undefined) s.stderrTail = n.stream.stderrTail;
      base.stream = s;
    }
  }
  return base;
}

export function encodeTree(nodes: readonly TreeNode[]): Buffer {
  const sorted = [...nodes].sort((a, b) => compareNames(a.name, b.name));
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i] as TreeNode).name === (sorted[i - 1] as TreeNode).name) throw new Error(`duplicate name ${JSON.stringify(sorted[i]?.name)} in a tree`);
  }
  return Buffer.from(JSON.stringify({ nodes: sorted.map(orderedNode) }));
}

/** A single path component: what a tree may name. */
export function isValidName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    Buffer.byteLength(name) <= 255 &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('/') &&
    !name.includes('\0') &&
    !name.includes('\\')
  );
}

/** Parses a tree blob as hostile input: every field type-checked, names validated, order and uniqueness enforced. */
export function decodeTree(plain: Uint8Array, object: string): Tree {
  const bad = (why: string): never => {
    throw new FormatError('E_BAD_TREE', `tree blob is invalid: ${why}`, { object });
  };
  if (plain.length > Limits.treeBytes) bad(`larger than ${Limits.treeBytes} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('utf8'));
  } catch {
    bad('not JSON');
  }
  const nodesRaw = (doc as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodesRaw)) return bad('no node list');
  const nodes: TreeNode[] = [];
  let previous: string | undefined;
  for (const [i, raw] of nodesRaw.entries()) {
    const n = decodeNode(raw, (why) => bad(`node ${i}: ${why}`));
    if (previous !== undefined && compareNames(previous, n.name) >= 0) bad(`node ${i} (${JSON.stringify(n.name)}) is out of order or repeated`);
    previous = n.name;
    nodes.push(n);
  }
  return { nodes };
}

function decodeNode(raw: unknown, bad: (why: string) => never): TreeNode {
  if (typeof raw !== 'object' || raw === null) bad('not an object');
  const r = raw as Record<string, unknown>;
  if (!isValidName(r.name)) bad(`invalid name ${JSON.stringify(r.name)}`);
  const int = (v: unknown, what: string, max = Number.MAX_SAFE_INTEGER, min = 0): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (what !== 'mtime' && !Number.isInteger(v))) bad(`${what} is invalid`);
    return v as number;
  };
  const base: NodeBase = {
    name: r.name as string,
    mode: int(r.mode, 'mode', 0o7777),
    mtime: int(r.mtime, 'mtime', 8.64e15, -8.64e15),
  };
  if (r.uid !== undefined) base.uid = int(r.uid, 'uid', 2 ** 32);
  if (r.gid !== undefined) base.gid = int(r.gid, 'gid', 2 ** 32);
  const hexList = (v: unknown, what: string, max: number): string[] => {
    if (!Array.isArray(v) || v.length > max || !v.every((x) => typeof x === 'string' && HEX64.test(x))) bad(`${what} is not a list of ids`);
    return v as string[];
  };
  switch (r.type) {
    case 'dir':
      if (typeof r.subtree !== 'string' || !HEX64.test(r.subtree)) bad('subtree is not an id');
      return { ...base, type: 'dir', subtree: r.subtree as string };
    case 'symlink':
      if (typeof r.target !== 'string' || r.target.length === 0 || r.target.length > 4096 || r.target.includes('\0')) bad('symlink target is invalid');
      return { ...base, type: 'symlink', target: r.target as string };
    case 'file': {
      const node: FileNode = { ...base, type: 'file', size: int(r.size, 'size'), sha256: '' };
      if (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256)) bad('sha256 is invalid');
      node.sha256 = r.sha256 as string;
      if (r.content !== undefined) node.content = hexList(r.content, 'content', INLINE_CHUNKS);
      if (r.contentLists !== undefined) node.contentLists = hexList(r.contentLists, 'contentLists', 1_000_000);
      if (node.content !== undefined && node.contentLists !== undefined) bad('has both content and contentLists');
      if (r.stream !== undefined) node.stream = decodeStreamInfo(r.stream, bad);
      return node;
    }
    default:
      return bad(`unknown type ${JSON.stringify(r.type)}`);
  }
}

function decodeStreamInfo(raw: unknown, bad: (why: string) => never): StreamInfo {
  if (typeof raw !== 'object' || raw === null) bad('stream is not an object');
  const s = raw as Record<string, unknown>;
  if (s.source !== 'stdin' && s.source !== 'command') bad('stream source is invalid');
  const info: StreamInfo = { source: s.source as 'stdin' | 'command' };
  if (s.command !== undefined) {
    if (!Array.isArray(s.command) || s.command.length > 4096 || !s.command.every((a) => typeof a === 'string' && a.length <= 65536)) bad('stream command is invalid');
    info.command = s.command as string[];
  }
  if (s.exitCode !== undefined) {
    if (typeof s.exitCode !== 'number' || !Number.isInteger(s.exitCode) || s.exitCode < -1 || s.exitCode > 255) bad('stream exit code is invalid');
    info.exitCode = s.exitCode as number;
  }
  if (s.signal !== undefined) {
    if (typeof s.signal !== 'string' || s.signal.length > 32) bad('stream signal is invalid');
    info.signal = s.signal as string;
  }
  if (s.stderrTail !== undefined) {
    if (typeof s.stderrTail !== 'string' || s.stderrTail.length > 65536) bad('stream stderr tail is invalid');
    info.stderrTail = s.stderrTail as string;
  }
  return info;
}

/** A list blob: LIST_IDS ids at most, raw 32-byte ids back to back. */
export function decodeIdList(plain: Uint8Array, object: string): Uint8Array[] {
  if (plain.length === 0 || plain.length % 32 !== 0 || plain.length / 32 > LIST_IDS) {
    throw new FormatError('E_BAD_LIST', `content list blob has ${plain.length} bytes`, { object });
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < plain.length; i += 32) out.push(plain.subarray(i, i + 32));
  return out;
}
