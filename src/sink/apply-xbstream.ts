/**
 * Applies xbstream chunk events to a directory: payloads are written at their offsets (holes stay holes),
 * E commits a file under its final name, MariaDB's seek/remove/rename act only inside the target.
 * Up to `parallel` writes are in flight while the stream keeps being parsed.
 * On any failure every file still open is removed, and the error says which.
 */
import type { XbstreamEvent } from '../container/xbstream/reader.js';
import type { SafePath } from '../entry.js';
import { SluiceError, type Where, withContext } from '../errors.js';
import type { DirectorySink, OutputFile } from './dir.js';

export interface ApplyOptions {
  /** Writes in flight at once (mbstream's --parallel). */
  parallel?: number;
  onFile?: (path: SafePath, size: number) => void;
  onWarning?: (message: string) => void;
}

export interface ApplySummary {
  files: number;
  bytes: number;
  removed: number;
  renamed: number;
}

interface OpenFile {
  file: Promise<OutputFile>;
  writes: Set<Promise<void>>;
  end: number;
  bytes: number;
}

export async function applyXbstreamEvents(
  events: AsyncIterable<XbstreamEvent>,
  sink: DirectorySink,
  options: ApplyOptions = {},
): Promise<ApplySummary> {
  const parallel = Math.max(1, options.parallel ?? 1);
  const open = new Map<SafePath, OpenFile>();
  const inFlight = new Set<Promise<void>>();
  const summary: ApplySummary = { files: 0, bytes: 0, removed: 0, renamed: 0 };
  let failure: unknown;

  const track = (state: OpenFile, work: Promise<void>): void => {
    const guarded = work.catch((err: unknown) => {
      failure ??= err;
    });
    state.writes.add(guarded);
    inFlight.add(guarded);
    void guarded.finally(() => {
      state.writes.delete(guarded);
      inFlight.delete(guarded);
    });
  };
  const checkFailure = (): void => {
    if (failure !== undefined) throw failure;
  };

  let context: Where = {};
  try {
    for await (const event of events) {
      checkFailure();
      context = { path: event.path, chunk: event.chunk, offset: event.streamOffset };
      switch (event.type) {
        case 'data': {
          let state = open.get(event.path);
          if (state === undefined) {
            state = { file: sink.openFile(event.path, { replace: event.rewrite }), writes: new Set(), end: 0, bytes: 0 };
            open.set(event.path, state);
            await state.file;
          }
          state.end = Math.max(state.end, event.offset + event.data.length);
          state.bytes += event.data.length;
          if (event.data.length > 0) {
            const { data, offset } = event;
            const where = { path: event.path, chunk: event.chunk, offset: event.streamOffset };
            track(state, state.file.then((f) => f.write(data, offset)).catch((err: unknown) => {
              throw withContext(err, where);
            }));
          }
          while (inFlight.size >= parallel) await Promise.race(inFlight);
          break;
        }
        case 'seek':
          if (!open.has(event.path)) {
            const state: OpenFile = { file: sink.openFile(event.path), writes: new Set(), end: 0, bytes: 0 };
            open.set(event.path, state);
            await state.file;
          }
          break;
        case 'eof': {
          let state = open.get(event.path);
          if (state === undefined) {
            state = { file: sink.openFile(event.path), writes: new Set(), end: 0, bytes: 0 };
            await state.file;
          }
          open.delete(event.path);
          await Promise.all(state.writes);
          checkFailure();
          const file = await state.file;
          await file.commit({ minSize: state.end });
          summary.files += 1;
          summary.bytes += state.bytes;
          options.onFile?.(event.path, state.end);
          break;
        }
        case 'remove':
          if (await sink.remove(event.path)) summary.removed += 1;
          else options.onWarning?.(`remove chunk for ${JSON.stringify(event.path)}: no such file (chunk ${event.chunk})`);
          break;
        case 'rename':
          await sink.rename(event.path, event.to);
          summary.renamed += 1;
          break;
        case 'skipped':
          options.onWarning?.(
            `skipped an ignorable chunk of unknown type 0x${event.chunkType.toString(16)} for ${JSON.stringify(event.path)} (chunk ${event.chunk})`,
          );
          break;
      }
      context = {};
    }
    await Promise.all(inFlight);
    checkFailure();
    return summary;
  } catch (err) {
    withContext(err, context);
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
