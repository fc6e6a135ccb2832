/**
 * Turns the events of an xbstream that is being read (mariabackup's stdout) into file entries whose
 * content streams, whatever order the consumer reads them in.
 *
 * xbstream interleaves files (mariabackup --parallel) and a file's payload arrives in pieces. Entries are
 * yielded in the order of each file's first chunk. Nothing is read from the input until a consumer asks
 * for an entry or for bytes it does not have yet, so a slow consumer stops the producer (backpressure).
 * (A file named `deferred` is yielded at its end instead.)
 * Bytes read for a file nobody is reading at that moment are kept in memory up to `memoryBytes` in all,
 * and beyond that appended to a spool file of that file in `spoolDirectory` (disk, never memory), read
 * back in order when that file's content is pulled. With mariabackup's default --parallel=1 and a consumer
 * that reads files in order, nothing is kept at all.
 *
 * MariaDB's seek, rewrite, remove and rename chunks describe edits of files already written, which an
 * entry (a byte stream written once) cannot express: they are refused with an error naming the chunk,
 * except rewrite, remove and rename when the consumer takes them (`onEdit`: the snapshot replays them on
 * its member files, `backup --mariadb --stream` passes them on to its writer).
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { XbstreamEvent } from '../container/xbstream/reader.js';
import type { FileEntry, SafePath } from '../entry.js';
import { FormatError } from '../errors.js';

export interface DemuxOptions {
  /** Directory for spool files (created by the caller, removed by the caller). */
  spoolDirectory: string;
  /** Bytes kept in memory for files that are not being read (default 64 MiB). */
  memoryBytes?: number;
  mtimeMs: number;
  /** Mode recorded for every file (default 0o640). */
  mode?: number;
  /**
   * Remove and rename chunks (mariabackup writes them for tables dropped or renamed during the backup)
   * are passed here instead of refused, and a file sent again with the rewrite flag becomes a second
   * entry of the same name (the later one replaces the earlier). `after` is the number of entries yielded
   * (or due to be) before the chunk, so a consumer that stores files out of order can replay the edits in
   * stream order.
   */
  onEdit?: (edit: XbstreamEdit) => void;
  /**
   * Files yielded only once complete, held meanwhile in a spool file (not in memory):
   * mariabackup's redo log copy, which under a write load starts first and ends last, and would
   * otherwise make its consumer pull the whole backup through the spool while it waits for its bytes.
   */
  deferred?: (path: SafePath) => boolean;
  /**
   * Blocks (`BufferPool`, `DEMUX_BLOCK_BYTES` each) that every byte handed out goes into, lent to the
   * consumer, which gives each piece back once it has copied or written it: what the input yields is
   * copied at once (so the input may reuse its buffers as soon as it is asked for more), and bytes read
   * back from spool files are read into them. Without it, the input's own buffers are kept and handed out
   * (they must stay valid), and spool reads take fresh buffers.
   */
  blocks?: DemuxBlocks;
}

/** Where the demultiplexer puts what it hands out (a `BufferPool` of `DEMUX_BLOCK_BYTES` blocks). */
export interface DemuxBlocks {
  readonly blockBytes: number;
  take(): Buffer;
  lend(block: Buffer, view: Uint8Array): void;
  lendPart(block: Buffer, view: Uint8Array): void;
  seal(block: Buffer): void;
}

export type XbstreamEdit = { type: 'remove'; path: SafePath; after: number } | { type: 'rename'; path: SafePath; to: SafePath; after: number };

/** 16 MiB: with the redo log copy in a spool file of its own, a larger hold saved little spooling and kept snapshot --mariadb over 200 MiB. */
export const DEFAULT_DEMUX_MEMORY_BYTES = 16 << 20;
const SPOOL_READ_BYTES = 1 << 20;
/** The size of `DemuxOptions.blocks`' blocks. */
export const DEMUX_BLOCK_BYTES = SPOOL_READ_BYTES;

/**
 * Free blocks worth keeping in a `DemuxOptions.blocks` pool: as many as can be out at once (the hold,
 * each file's open block, what the consumers have not given back yet), so a drained hold is not left to
 * the garbage collector and taken fresh again (a pool of 16 for a 16 MiB hold made 60 MiB of garbage).
 */
export function demuxBlocksKept(memoryBytes = DEFAULT_DEMUX_MEMORY_BYTES): number {
  return Math.ceil(memoryBytes / DEMUX_BLOCK_BYTES) + 24;
}

type Segment = { kind: 'memory'; data: Uint8Array } | { kind: 'spool'; at: number; length: number };

interface Spool {
  fd: number;
  file: string;
  size: number;
}

interface FileState {
  path: SafePath;
  segments: Segment[];
  /** Bytes of this file received so far. */
  received: number;
  done: boolean;
  /** The consumer stopped reading: later bytes are dropped. */
  abandoned: boolean;
  /** Yielded only at its end (`DemuxOptions.deferred`). */
  deferred: boolean;
  spool?: Spool;
  /**
   * The block this file's bytes are being copied into (`DemuxOptions.blocks`), and how far it is filled:
   * one per file, so that the bytes of a file nobody reads yet pin only blocks of their own.
   */
  block?: Buffer;
  fill: number;
}

export class XbstreamDemux {
  readonly #events: AsyncIterator<XbstreamEvent>;
  readonly #options: DemuxOptions;
  readonly #budget: number;
  readonly #files = new Map<SafePath, FileState>();
  readonly #unannounced: FileState[] = [];
  #memoryBytes = 0;
  #peakMemoryBytes = 0;
  #spooledBytes = 0;
  #spools = 0;
  #created = 0;
  #ended = false;
  #failure: unknown;
  #pumping: Promise<void> | undefined;

  constructor(events: AsyncIterable<XbstreamEvent>, options: DemuxOptions) {
    this.#events = events[Symbol.asyncIterator]();
    this.#options = options;
    this.#budget = options.memoryBytes ?? DEFAULT_DEMUX_MEMORY_BYTES;
  }

  /** What had to be held back for files not being read: peak bytes in memory, bytes spooled to disk. */
  get held(): { peakMemoryBytes: number; spooledBytes: number } {
    return { peakMemoryBytes: this.#peakMemoryBytes, spooledBytes: this.#spooledBytes };
  }

  /** Every file of the stream, in the order of its first chunk. Ends when the input ends. */
  async *entries(): AsyncGenerator<FileEntry> {
    try {
      for (;;) {
        const next = this.#unannounced.shift();
        if (next !== undefined) {
          yield this.#entry(next);
          continue;
        }
        if (this.#ended) return;
        await this.#pump();
      }
    } finally {
      if (!this.#ended) await this.close();
    }
  }

  /** Stops reading the input and removes every spool file. */
  async close(): Promise<void> {
    this.#ended = true;
    for (const file of this.#files.values()) {
      this.#dropSpool(file);
      this.#seal(file);
    }
    await this.#events.return?.(undefined);
  }

  #entry(file: FileState): FileEntry {
    return {
      kind: 'file',
      path: file.path,
      mode: this.#options.mode ?? 0o640,
      mtimeMs: this.#options.mtimeMs,
      content: this.#content(file),
    };
  }

  async *#content(file: FileState): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const segment = file.segments.shift();
        if (segment === undefined) {
          if (file.done) return;
          if (this.#ended) throw this.#failure ?? new FormatError('E_XBSTREAM_UNFINISHED', 'input ended inside the file', { path: file.path });
          await this.#pump();
          continue;
        }
        if (segment.kind === 'memory') {
          this.#memoryBytes -= segment.data.length;
          yield segment.data;
        } else {
          yield* this.#readSpool(file, segment);
        }
      }
    } finally {
      file.abandoned = !file.done;
      for (const s of file.segments) if (s.kind === 'memory') this.#memoryBytes -= s.data.length;
      file.segments = [];
      this.#dropSpool(file);
      this.#seal(file);
    }
  }

  async *#readSpool(file: FileState, segment: { at: number; length: number }): AsyncGenerator<Uint8Array> {
    const spool = file.spool as Spool;
    const blocks = this.#options.blocks;
    let done = 0;
    while (done < segment.length) {
      const want = Math.min(SPOOL_READ_BYTES, segment.length - done);
      const pooled = blocks !== undefined && blocks.blockBytes >= want ? blocks : undefined;
      const block = pooled?.take() ?? Buffer.allocUnsafe(want);
      const n = readSync(spool.fd, block, 0, want, segment.at + done);
      if (n === 0) throw new FormatError('E_SPOOL', `spool file ${spool.file} is shorter than what was written to it`, { path: file.path });
      done += n;
      const piece = block.subarray(0, n);
      if (pooled !== undefined) {
        pooled.lend(block, piece);
        // Reads and writes here may all be synchronous (a spool file into stdout on a file): without a
        // turn of the event loop, the callbacks that give written pieces back never run, and every piece
        // took a fresh block (83 out at once instead of 19).
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      yield piece;
    }
  }

  /** Reads one event; concurrent callers share the read in progress. */
  #pump(): Promise<void> {
    this.#pumping ??= this.#readEvent().finally(() => {
      this.#pumping = undefined;
    });
    return this.#pumping;
  }

  async #readEvent(): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    let result: IteratorResult<XbstreamEvent>;
    try {
      result = await this.#events.next();
    } catch (err) {
      this.#failure = err;
      this.#ended = true;
      throw err;
    }
    if (result.done === true) {
      this.#ended = true;
      for (const file of this.#files.values()) this.#seal(file);
      return;
    }
    const event = result.value;
    const where = { chunk: event.chunk, offset: event.streamOffset, path: event.path };
    switch (event.type) {
      case 'data': {
        if (event.rewrite) {
          if (this.#options.onEdit === undefined) throw this.#fail(new FormatError('E_XBSTREAM_EDIT', 'a rewrite chunk cannot be taken into a backup as it is read', where));
          // the file is sent again from the start (changed during the backup): a new version, listed after the old
          const before = this.#files.get(event.path);
          if (before?.done === true) this.#files.delete(event.path);
        }
        const file = this.#file(event.path);
        if (event.offset !== file.received) {
          throw this.#fail(new FormatError('E_XBSTREAM_ORDER', `data at offset ${event.offset}, expected ${file.received}`, where));
        }
        file.received += event.data.length;
        if (event.data.length > 0 && !file.abandoned) this.#keep(file, event.data);
        break;
      }
      case 'eof': {
        // a lone E with the rewrite flag sends a finished file again, empty
        if (event.rewrite === true && this.#options.onEdit !== undefined && this.#files.get(event.path)?.done === true) this.#files.delete(event.path);
        const file = this.#file(event.path);
        file.done = true;
        this.#seal(file);
        if (file.deferred) this.#announce(file);
        break;
      }
      case 'seek':
        if (event.offset !== this.#file(event.path).received) {
          throw this.#fail(new FormatError('E_XBSTREAM_EDIT', `a seek to offset ${event.offset} cannot be taken into a backup as it is read`, where));
        }
        break;
      case 'remove':
      case 'rename': {
        const onEdit = this.#options.onEdit;
        if (onEdit === undefined) throw this.#fail(new FormatError('E_XBSTREAM_EDIT', `a ${event.type} chunk cannot be taken into a backup as it is read`, where));
        // the reader refuses edits of files still open: these are finished, and a new file may take the name
        const moved = this.#files.get(event.path);
        this.#files.delete(event.path);
        if (event.type === 'rename') {
          this.#files.delete(event.to);
          if (moved !== undefined) this.#files.set(event.to, moved);
          onEdit({ type: 'rename', path: event.path, to: event.to, after: this.#created });
        } else {
          onEdit({ type: 'remove', path: event.path, after: this.#created });
        }
        break;
      }
      case 'skipped':
        break;
    }
  }

  #fail(err: unknown): unknown {
    this.#failure = err;
    this.#ended = true;
    return err;
  }

  #file(path: SafePath): FileState {
    let file = this.#files.get(path);
    if (file === undefined) {
      file = { path, segments: [], received: 0, done: false, abandoned: false, deferred: this.#options.deferred?.(path) === true, fill: 0 };
      this.#files.set(path, file);
      if (!file.deferred) this.#announce(file);
    }
    return file;
  }

  #announce(file: FileState): void {
    this.#unannounced.push(file);
    this.#created += 1;
  }

  #keep(file: FileState, data: Uint8Array): void {
    // a deferred file is held for the whole backup: the memory is kept for the files that interleave briefly
    if (!file.deferred && this.#memoryBytes + data.length <= this.#budget) {
      this.#memoryBytes += data.length;
      this.#peakMemoryBytes = Math.max(this.#peakMemoryBytes, this.#memoryBytes);
      file.segments.push({ kind: 'memory', data: this.#own(file, data) });
      return;
    }
    if (file.spool === undefined) {
      this.#spools += 1;
      const name = join(this.#options.spoolDirectory, `spool-${this.#spools}`);
      file.spool = { fd: openSync(name, 'wx+', 0o600), file: name, size: 0 };
    }
    const spool = file.spool;
    let written = 0;
    while (written < data.length) written += writeSync(spool.fd, data, written, data.length - written, spool.size + written);
    const last = file.segments.at(-1);
    if (last?.kind === 'spool' && last.at + last.length === spool.size) last.length += data.length;
    else file.segments.push({ kind: 'spool', at: spool.size, length: data.length });
    spool.size += data.length;
    this.#spooledBytes += data.length;
  }

  /** `data` copied into the file's block (with `blocks`), lent to whoever reads it; as it is without. */
  #own(file: FileState, data: Uint8Array): Uint8Array {
    const blocks = this.#options.blocks;
    if (blocks === undefined) return data;
    if (data.length > blocks.blockBytes) return Uint8Array.from(data);
    if (file.block === undefined || file.fill + data.length > blocks.blockBytes) {
      this.#seal(file);
      file.block = blocks.take();
      file.fill = 0;
    }
    const view = file.block.subarray(file.fill, file.fill + data.length);
    view.set(data);
    file.fill += data.length;
    blocks.lendPart(file.block, view);
    return view;
  }

  /** No more of the file's bytes go into its block: it returns to the pool once its pieces are given back. */
  #seal(file: FileState): void {
    if (file.block !== undefined) this.#options.blocks?.seal(file.block);
    delete file.block;
  }

  #dropSpool(file: FileState): void {
    if (file.spool === undefined) return;
    closeSync(file.spool.fd);
    rmSync(file.spool.file, { force: true });
    delete file.spool;
  }
}
