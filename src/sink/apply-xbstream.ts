/**
 * Applies xbstream chunk events to a directory: payloads are written at their offsets (holes stay holes),
 * E commits a file under its final name, MariaDB's seek/remove/rename act only inside the target.
 *
 * Payload pieces arrive as views of the input chunks; contiguous pieces of a file are gathered into one
 * `writev` of about 1 MiB, without copying. Opening, writing and committing files all proceed
 * concurrently, at most `depth` operations at once, while the stream keeps being parsed; remove and
 * rename wait until everything before them is done. On any failure every file still open is removed,
 * and the error says which.
 *
 * MariaDB's rewrite flag replaces only a file this extraction created (it re-sends a file that changed
 * during the backup); a file that was in the target before is refused as for any chunk, unless the sink
 * overwrites. Remove and rename chunks likewise touch only what this extraction created.
 */
import type { XbstreamEvent } from '../container/xbstream/reader.js';
import type { SafePath } from '../entry.js';
import { SluiceError, type Where, withContext } from '../errors.js';
import type { DirectorySink, OutputFile } from './dir.js';

export interface ApplyOptions {
  /** Parallel writers (mbstream's --parallel); each adds a few operations in flight. */
  parallel?: number;
  onFile?: (path: SafePath, size: number) => void;
  onWarning?: (message: string) => void;
  /**
   * The input's recycled blocks, when the events' data are views of them: pieces waiting to be written
   * are retained, and released once written.
   */
  blocks?: { retain(view: Uint8Array): void; release(view: Uint8Array): void };
}

export interface ApplySummary {
  files: number;
  bytes: number;
  removed: number;
  renamed: number;
}

/** Bytes gathered per writev. */
const BATCH_BYTES = 1024 * 1024;
/** Operations in flight per unit of --parallel. */
const DEPTH_PER_WRITER = 4;

interface OpenFile {
  path: SafePath;
  file: Promise<OutputFile>;
  /** Writes of this file still in flight. */
  writes: Set<Promise<void>>;
  batch: Uint8Array[];
  batchOffset: number;
  batchBytes: number;
  batchWhere: Where;
  end: number;
  bytes: number;
}

export async function applyXbstreamEvents(
  events: AsyncIterable<XbstreamEvent>,
  sink: DirectorySink,
  options: ApplyOptions = {},
): Promise<ApplySummary> {
  const depth = Math.max(1, options.parallel ?? 1) * DEPTH_PER_WRITER;
  const open = new Map<SafePath, OpenFile>();
  /** Paths committed or being committed, with the commit's promise (a rewrite must wait for it). */
  const commits = new Map<SafePath, Promise<void>>();
  /** Paths this extraction created, under their current names: the only ones the rewrite flag may replace. */
  const created = new Set<SafePath>();
  const inFlight = new Set<Promise<void>>();
  const summary: ApplySummary = { files: 0, bytes: 0, removed: 0, renamed: 0 };
  let failure: unknown;

  const track = (work: Promise<void>, where: Where, owner?: OpenFile): Promise<void> => {
    const guarded = work.catch((err: unknown) => {
      failure ??= located(err, where);
    });
    inFlight.add(guarded);
    owner?.writes.add(guarded);
    void guarded.finally(() => {
      inFlight.delete(guarded);
      owner?.writes.delete(guarded);
    });
    return guarded;
  };
  /** Refuses a remove or rename of something that was in the target before, unless the sink overwrites. */
  const refuseForeign = async (path: SafePath, what: string): Promise<void> => {
    if (sink.overwrites || created.has(path)) return;
    const inside = `${path}/`;
    for (const p of created) if (p.startsWith(inside)) return;
    if (await sink.exists(path)) {
      throw new SluiceError('E_EXISTS', `${what} a file that was in the target directory before this extraction (pass --overwrite to allow it)`, { path });
    }
  };
  /** Whether this extraction created or is writing `path`, or something under it. */
  const holdsAnything = (path: SafePath): boolean => {
    const inside = `${path}/`;
    for (const p of [...created, ...open.keys()]) if (p === path || p.startsWith(inside)) return true;
    return false;
  };
  const checkFailure = (): void => {
    if (failure !== undefined) throw failure;
  };
  const drain = async (): Promise<void> => {
    await Promise.all(inFlight);
    checkFailure();
  };
  const flush = (state: OpenFile): void => {
    if (state.batchBytes === 0) return;
    const { batch, batchOffset } = state;
    const written = state.file.then((f) => f.writev(batch, batchOffset));
    const blocks = options.blocks;
    if (blocks !== undefined) void written.finally(() => batch.forEach((piece) => blocks.release(piece))).catch(() => undefined);
    track(written, state.batchWhere, state);
    state.batch = [];
    state.batchBytes = 0;
  };
  const openState = async (path: SafePath, rewrite: boolean, where: Where): Promise<OpenFile> => {
    const previous = commits.get(path);
    if (previous !== undefined) {
      await previous;
      checkFailure();
    }
    const replace = rewrite && created.has(path);
    created.add(path);
    const file = sink.openFile(path, {
      replace,
      ...(rewrite && !replace ? { existsNote: 'the rewrite flag replaces only files created by this extraction' } : {}),
    });
    file.catch(() => undefined); // reported through `track` below, or when awaited
    const state: OpenFile = { path, file, writes: new Set(), batch: [], batchOffset: 0, batchBytes: 0, batchWhere: where, end: 0, bytes: 0 };
    track(file.then(() => undefined), where, state);
    open.set(path, state);
    return state;
  };

  let context: Where = {};
  try {
    for await (const event of events) {
      checkFailure();
      context = { path: event.path, chunk: event.chunk, offset: event.streamOffset };
      switch (event.type) {
        case 'data': {
          const state = open.get(event.path) ?? (await openState(event.path, event.rewrite, context));
          state.end = Math.max(state.end, event.offset + event.data.length);
          state.bytes += event.data.length;
          if (event.data.length === 0) break;
          if (state.batchBytes > 0 && event.offset !== state.batchOffset + state.batchBytes) flush(state);
          if (state.batchBytes === 0) {
            state.batchOffset = event.offset;
            state.batchWhere = context;
          }
          state.batch.push(event.data);
          options.blocks?.retain(event.data);
          state.batchBytes += event.data.length;
          if (state.batchBytes >= BATCH_BYTES) flush(state);
          break;
        }
        case 'seek': {
          const state = open.get(event.path) ?? (await openState(event.path, event.rewrite === true, context));
          flush(state);
          break;
        }
        case 'eof': {
          const state = open.get(event.path) ?? (await openState(event.path, event.rewrite === true, context));
          open.delete(event.path);
          flush(state);
          const writes = [...state.writes];
          const commit = (async () => {
            await Promise.all(writes);
            if (failure !== undefined) return;
            await (await state.file).commit({ minSize: state.end });
            summary.files += 1;
            summary.bytes += state.bytes;
            options.onFile?.(state.path, state.end);
          })();
          const committed = track(commit, context);
          commits.set(event.path, committed);
          void committed.finally(() => {
            if (commits.get(state.path) === committed) commits.delete(state.path);
          });
          break;
        }
        case 'remove':
          await drain();
          await refuseForeign(event.path, 'the remove chunk would delete');
          if (await sink.remove(event.path)) summary.removed += 1;
          else options.onWarning?.(`remove chunk for ${JSON.stringify(event.path)}: no such file (chunk ${event.chunk})`);
          commits.delete(event.path);
          created.delete(event.path);
          break;
        case 'rename':
          await drain();
          // mariabackup renames files it never sent (tables created and renamed during the copy); mbstream skips those.
          if (!holdsAnything(event.path) && !(await sink.exists(event.path))) {
            options.onWarning?.(`rename chunk for ${JSON.stringify(event.path)} to ${JSON.stringify(event.to)}: no such file (chunk ${event.chunk})`);
            break;
          }
          await refuseForeign(event.path, 'the rename chunk would move');
          await refuseForeign(event.to, `the rename chunk (from ${JSON.stringify(event.path)}) would replace`);
          await sink.rename(event.path, event.to);
          moveCreated(created, event.path, event.to);
          summary.renamed += 1;
          commits.delete(event.path);
          commits.delete(event.to);
          break;
        case 'skipped':
          options.onWarning?.(
            `skipped an ignorable chunk of unknown type 0x${event.chunkType.toString(16)} for ${JSON.stringify(event.path)} (chunk ${event.chunk})`,
          );
          break;
      }
      context = {};
      while (inFlight.size >= depth) await Promise.race(inFlight);
    }
    await drain();
    return summary;
  } catch (thrown) {
    const err = located(thrown, context);
    await Promise.allSettled(inFlight);
    const removed = await sink.abortAll();
    if (removed.length > 0 && err instanceof SluiceError) {
      const list = removed.slice(0, 5).map((p) => JSON.stringify(p)).join(', ');
      throw new SluiceError(err.code, `${err.message}; removed ${removed.length} incomplete file(s): ${list}${removed.length > 5 ? ', ...' : ''}`, {}, {
        cause: err,
        exitCode: err.exitCode,
      });
    }
    throw err;
  }
}

/** System errors (EMFILE, ENOSPC, EACCES, ...) get the chunk's location like any other. */
function located(err: unknown, where: Where): unknown {
  if (err instanceof SluiceError) return withContext(err, where);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (!(err instanceof Error) || typeof code !== 'string') return err;
  const hint = code === 'EMFILE' || code === 'ENFILE' ? ' (the process may not open more files: raise `ulimit -n`)' : '';
  return new SluiceError(`E_${code}`, `${err.message}${hint}`, where, { cause: err });
}

/** After a rename, what this extraction created under `from` (a file, or a directory's files) is under `to`. */
function moveCreated(created: Set<SafePath>, from: SafePath, to: SafePath): void {
  const wasOurs = created.delete(from);
  created.delete(to);
  if (wasOurs) created.add(to);
  const inside = `${from}/`;
  for (const path of [...created]) {
    if (path.startsWith(`${to}/`)) created.delete(path);
    if (path.startsWith(inside)) {
      created.delete(path);
      created.add(`${to}/${path.slice(inside.length)}` as SafePath);
    }
  }
}
