/**
 * Encodes entries as an xbstream, byte-compatible with Percona `xbstream -c` and MariaDB `mbstream -c`:
 * P chunks cut the way the peers cut them (see `stageLikeUpstream`), then one E chunk; flags 0; an empty
 * file is a lone E chunk. With `parallel` > 1 the chunks of several files interleave, each file's chunks contiguous
 * and in order. A file's first chunk never precedes the first chunk of a file started before it, so
 * extractors that create parent directories one level at a time see the walk order.
 *
 * A backup taken from a running MariaDB also edits files it sent earlier (`edits`): remove and rename
 * chunks, written between files, and a file sent again, whose chunks carry the rewrite flag (without it
 * mbstream refuses a file that exists). Those are MariaDB's own chunk types: only such streams have them.
 *
 * xbstream has no directories or symlinks: they are reported through `onSkip`, never silently dropped.
 */
import type { Entry, FileEntry } from '../../entry.js';
import { SluiceError } from '../../errors.js';
import {
  CHUNK_PAYLOAD_BYTES,
  encodeEofChunk,
  encodePayloadHeader,
  encodeRemoveChunk,
  encodeRenameChunk,
  FLAG_REWRITE,
  type KnownCrc,
  MAX_PATH_BYTES,
} from './codec.js';

/** An edit of a file written earlier in the stream, by the name it was written under. */
export type XbstreamFileEdit = { type: 'remove'; path: string } | { type: 'rename'; path: string; to: string };

export interface XbstreamWriterOptions {
  /** Files whose chunks may interleave (xtrabackup's --parallel). */
  parallel?: number;
  chunkBytes?: number;
  /** Entries the format cannot carry: symlinks, and directories that hold no file. */
  onSkip?: (path: string, kind: 'symlink' | 'empty directory') => void;
  /** Called once for each file fully written, with its size. */
  onFile?: (path: string, size: number) => void;
  /** A path some extractors refuse: mbstream rejects names starting with "." and drops the rest of the stream. */
  onPortability?: (path: string, problem: string) => void;
  /**
   * The edits that came after the first `files` entries of the input (asked each time an entry is taken,
   * and once at the end; each edit is returned once). They are written once every file taken before is
   * complete, and before the next one starts.
   */
  edits?: (files: number) => readonly XbstreamFileEdit[];
  /**
   * CRC-32s already computed for pieces of file content (the file reader's, when files reach the writer
   * untransformed); any piece it has none for is checksummed here.
   */
  knownCrc?: KnownCrc;
}

interface Lane {
  entry: FileEntry;
  pathBytes: Buffer;
  chunks: AsyncIterator<Uint8Array[]>;
  offset: number;
  pending: Promise<IteratorResult<Uint8Array[]>> | undefined;
  started: boolean;
  flags: number;
}

export async function* writeXbstream(entries: AsyncIterable<Entry>, options: XbstreamWriterOptions = {}): AsyncGenerator<Uint8Array> {
  const parallel = Math.max(1, options.parallel ?? 1);
  const chunkBytes = options.chunkBytes ?? CHUNK_PAYLOAD_BYTES;
  const source = entries[Symbol.asyncIterator]();
  const emptyDirs = new EmptyDirectoryTracker();
  const lanes: Lane[] = [];
  let sourceDone = false;
  /** Files taken from the input so far. */
  let taken = 0;
  /** Names an extractor holds so far, when the input has edits (a second file of one of them is a rewrite). */
  const written = new Set<string>();
  /** Edits due, and the entry that waits for them (or for a lane writing a file of the same name) to be written. */
  let dueEdits: XbstreamFileEdit[] = [];
  let waiting: FileEntry | undefined;
  /**
   * mbstream 10.11 checks an E chunk that directly follows an R chunk against the previous P chunk's CRC
   * over a buffer the R chunk overwrote, and fails: a P chunk (an empty one if need be) goes in between.
   */
  let renamedLast = false;

  const nextFile = async (): Promise<FileEntry | undefined> => {
    while (!sourceDone) {
      const next = await source.next();
      if (next.done === true) {
        sourceDone = true;
        break;
      }
      const entry = next.value;
      if (entry.kind === 'file') {
        emptyDirs.sawFile(entry.path);
        if (entry.path.startsWith('.')) options.onPortability?.(entry.path, 'mbstream -x refuses paths that start with "." and then silently drops the rest of the stream (sluice xbstream -x and Percona xbstream accept them)');
        return entry;
      }
      if (entry.kind === 'dir') emptyDirs.sawDirectory(entry.path);
      else options.onSkip?.(entry.path, 'symlink');
    }
    return undefined;
  };

  const start = (entry: FileEntry): void => {
    const rewrite = written.has(entry.path);
    lanes.push(startLane(entry, chunkBytes, rewrite ? FLAG_REWRITE : 0));
    if (options.edits !== undefined) written.add(entry.path);
  };

  try {
    for (;;) {
      while (lanes.length < parallel && waiting === undefined && !sourceDone) {
        const entry = await nextFile();
        // the edits that came before this entry (or, at the end, after the last one)
        if (options.edits !== undefined) dueEdits.push(...options.edits(taken));
        if (entry === undefined) break;
        taken += 1;
        if (dueEdits.length > 0 || lanes.some((l) => l.entry.path === entry.path)) waiting = entry;
        else start(entry);
      }
      if (lanes.length === 0) {
        for (const edit of dueEdits) {
          yield encodeEdit(edit);
          if (edit.type === 'rename') {
            renamedLast = true;
            if (written.delete(edit.path)) written.add(edit.to);
          } else {
            written.delete(edit.path);
          }
        }
        dueEdits = [];
        if (waiting !== undefined) {
          start(waiting);
          waiting = undefined;
          continue;
        }
        if (sourceDone) break;
        continue;
      }

      // Every lane reads ahead, but only lanes up to the first one that has not emitted yet may emit:
      // first chunks keep walk order.
      for (const lane of lanes) lane.pending ??= lane.chunks.next();
      const firstUnstarted = lanes.findIndex((l) => !l.started);
      const eligible = firstUnstarted < 0 ? lanes : lanes.slice(0, firstUnstarted + 1);
      const lane = await raceLanes(eligible);
      const result = await (lane.pending as Promise<IteratorResult<Uint8Array[]>>);
      lane.pending = undefined;
      lane.started = true;
      if (result.done === true) {
        if (renamedLast) yield encodePayloadHeader(lane.pathBytes, [], lane.offset, lane.flags);
        renamedLast = false;
        yield encodeEofChunk(lane.pathBytes, lane.flags);
        options.onFile?.(lane.entry.path, lane.offset);
        lanes.splice(lanes.indexOf(lane), 1);
        continue;
      }
      const pieces = result.value;
      renamedLast = false;
      yield encodePayloadHeader(lane.pathBytes, pieces, lane.offset, lane.flags, options.knownCrc);
      for (const piece of pieces) {
        yield piece;
        lane.offset += piece.length;
      }
    }
    for (const dir of emptyDirs.emptyLeaves()) options.onSkip?.(dir, 'empty directory');
  } finally {
    await Promise.allSettled(lanes.map(async (l) => {
      await l.pending?.catch(() => undefined);
      await l.chunks.return?.();
    }));
    if (waiting !== undefined) await waiting.content[Symbol.asyncIterator]().return?.();
    if (!sourceDone) await source.return?.();
  }
}

function encodeEdit(edit: XbstreamFileEdit): Buffer {
  const pathBytes = checkedPath(edit.path);
  return edit.type === 'remove' ? encodeRemoveChunk(pathBytes) : encodeRenameChunk(pathBytes, checkedPath(edit.to));
}

function checkedPath(path: string): Buffer {
  const pathBytes = Buffer.from(path, 'utf8');
  if (pathBytes.length > MAX_PATH_BYTES) {
    throw new SluiceError(
      'E_XBSTREAM_PATH_LENGTH',
      `path is ${pathBytes.length} bytes; xbstream readers accept at most ${MAX_PATH_BYTES} (use --stream=tar)`,
      { path },
    );
  }
  return pathBytes;
}

function startLane(entry: FileEntry, chunkBytes: number, flags: number): Lane {
  const pathBytes = checkedPath(entry.path);
  return { entry, pathBytes, chunks: stageLikeUpstream(entry.content, chunkBytes)[Symbol.asyncIterator](), offset: 0, pending: undefined, started: false, flags };
}

async function raceLanes(lanes: Lane[]): Promise<Lane> {
  if (lanes.length === 1) return lanes[0] as Lane;
  return Promise.race(lanes.map((lane) => (lane.pending as Promise<unknown>).then(() => lane)));
}

/**
 * Groups a file's content into P chunk payloads the way xtrabackup and mbstream do, without copying.
 * Upstream stages writes in a 10 MiB buffer per file: a write smaller than the free space is appended;
 * otherwise the staged bytes go out as one chunk (if any) and the write as a chunk of its own, whatever
 * its size; closing flushes what is staged. A payload here is the list of the writes it holds, so staging
 * never copies (the CRC runs over the pieces in turn). Upstream never writes more than 10 MiB at once,
 * so a larger piece is first cut into 10 MiB views. With 10 MiB reads this gives exactly the chunks
 * `mbstream -c` gives: 10 MiB each, then the remainder.
 */
export async function* stageLikeUpstream(content: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array[]> {
  let staged: Uint8Array[] = [];
  let stagedBytes = 0;
  for await (const whole of content) {
    for (let at = 0; at < whole.length; at += size) {
      const piece = whole.length <= size ? whole : whole.subarray(at, at + size);
      if (piece.length < size - stagedBytes) {
        staged.push(piece);
        stagedBytes += piece.length;
        continue;
      }
      if (stagedBytes > 0) yield staged;
      staged = [];
      stagedBytes = 0;
      yield [piece];
    }
  }
  if (stagedBytes > 0) yield staged;
}

/** Remembers directories that never received a file, to report the ones the stream cannot carry. */
class EmptyDirectoryTracker {
  readonly #dirs = new Set<string>();

  sawDirectory(path: string): void {
    this.#dirs.add(path);
  }

  sawFile(path: string): void {
    for (const dir of ancestors(path)) this.#dirs.delete(dir);
  }

  /** Empty directories that hold no other empty directory (their parents are implied). */
  emptyLeaves(): string[] {
    const parents = new Set<string>();
    for (const dir of this.#dirs) for (const up of ancestors(dir)) parents.add(up);
    return [...this.#dirs].filter((d) => !parents.has(d));
  }
}

function* ancestors(path: string): Generator<string> {
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
    yield path.slice(0, slash);
  }
}
