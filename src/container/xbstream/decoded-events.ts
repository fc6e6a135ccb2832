/**
 * Decoding files on the fly while an xbstream is read (`xbstream -x --decompress --decrypt`, `verify`
 * with keys). In an xbstream the chunks of several files interleave, so each file that has layers to
 * remove gets its own pipeline: its payload flows through a small bounded queue into the decoder, and
 * the decoded bytes come back as data events under the decoded name, followed by its eof when the
 * decoder has checked the end of the file. Other events pass through untouched.
 *
 * Backpressure is kept end to end: a file's queue holds at most a few events, the output queue too, so
 * a slow disk or decoder slows the reading of the stream instead of filling memory.
 * A file to be decoded must arrive in order: MariaDB's seek and rewrite (DDL during the backup) cannot be
 * decoded on the fly, and are reported as such (extract first, then `sluice decompress`).
 */
import { type SafePath, toSafePath } from '../../entry.js';
import { FormatError } from '../../errors.js';
import { AsyncQueue } from '../../transform/async-queue.js';
import { type Decoder, LAYER_SUFFIX, type Layer } from '../../transform/decode.js';
import { FileHasher } from './file-hasher.js';
import type { InspectedFile, InspectSummary } from './inspect.js';
import { readXbstream, type XbstreamEvent, type XbstreamReaderOptions } from './reader.js';

/** Payload events buffered per file being decoded (each at most 1 MiB from the reader). */
const FILE_QUEUE_EVENTS = 4;
const OUTPUT_QUEUE_EVENTS = 16;

interface Pipeline {
  input: AsyncQueue<Uint8Array>;
  expected: number;
  done: Promise<void>;
  /** The latest stream event of the file (its chunk number and offset label the decoded events). */
  last: XbstreamEvent;
}

function stripLayers(path: string, layers: readonly Layer[]): SafePath {
  let p = path;
  for (const l of layers) p = p.slice(0, -LAYER_SUFFIX[l].length);
  return toSafePath(p);
}

export interface DecodedFileInfo {
  /** The name in the stream. */
  from: SafePath;
  /** The name after decoding. */
  to: SafePath;
  layers: Layer[];
}

export async function* decodeXbstreamEvents(
  events: AsyncIterable<XbstreamEvent>,
  decoder: Pick<Decoder, 'plan' | 'decode'>,
  /** Told when a file starts being decoded: its name in the stream, its decoded name, the layers. */
  options: { onDecoded?: (info: DecodedFileInfo) => void } = {},
): AsyncGenerator<XbstreamEvent> {
  const output = new AsyncQueue<XbstreamEvent>(OUTPUT_QUEUE_EVENTS);
  const pipelines = new Map<SafePath, Pipeline>();
  const running = new Set<Promise<void>>();

  const start = (event: XbstreamEvent & { path: SafePath }, layers: Layer[]): Pipeline => {
    const input = new AsyncQueue<Uint8Array>(FILE_QUEUE_EVENTS);
    const to = stripLayers(event.path, layers);
    const from = event.path;
    options.onDecoded?.({ from, to, layers });
    const pipeline: Pipeline = { input, expected: 0, done: Promise.resolve(), last: event };
    const done = (async () => {
      let offset = 0;
      for await (const piece of decoder.decode(input, from, layers)) {
        const { chunk, streamOffset } = pipeline.last;
        await output.push({ type: 'data', path: to, offset, data: piece, rewrite: false, chunk, streamOffset });
        offset += piece.length;
      }
      await output.push({ type: 'eof', path: to, chunk: pipeline.last.chunk, streamOffset: pipeline.last.streamOffset });
    })().catch((err: unknown) => {
      input.fail(err);
      output.fail(err);
    });
    running.add(done);
    void done.finally(() => running.delete(done));
    pipeline.done = done;
    pipelines.set(event.path, pipeline);
    return pipeline;
  };

  const unsupported = (event: XbstreamEvent, what: string): FormatError =>
    new FormatError(
      'E_DECODE_REWRITE',
      `${event.path} cannot be decoded while extracting: the stream ${what}; extract without --decompress/--decrypt, then run sluice decompress or decrypt`,
      { path: event.path, chunk: event.chunk, offset: event.streamOffset },
    );

  const produce = async (): Promise<void> => {
    for await (const event of events) {
      if (output.failed) break;
      switch (event.type) {
        case 'data': {
          const layers = decoder.plan(event.path);
          if (layers.length === 0) {
            await output.push(event);
            break;
          }
          const pipeline = pipelines.get(event.path) ?? start(event, layers);
          if (event.rewrite || event.offset !== pipeline.expected) throw unsupported(event, 'rewrites part of it');
          pipeline.expected += event.data.length;
          pipeline.last = event;
          if (event.data.length > 0) await pipeline.input.push(event.data);
          break;
        }
        case 'seek':
          if (decoder.plan(event.path).length > 0) throw unsupported(event, 'seeks inside it');
          await output.push(event);
          break;
        case 'eof': {
          const layers = decoder.plan(event.path);
          if (layers.length === 0) {
            await output.push(event);
            break;
          }
          const pipeline = pipelines.get(event.path) ?? start(event, layers);
          pipelines.delete(event.path);
          pipeline.last = event;
          pipeline.input.end();
          break;
        }
        case 'remove':
          await output.push({ ...event, path: stripLayers(event.path, decoder.plan(event.path)) });
          break;
        case 'rename':
          await output.push({
            ...event,
            path: stripLayers(event.path, decoder.plan(event.path)),
            to: stripLayers(event.to, decoder.plan(event.to)),
          });
          break;
        default:
          await output.push(event);
      }
    }
    // files left open (no eof) are the reader's to report; end their decoders so nothing hangs
    for (const pipeline of pipelines.values()) pipeline.input.end();
    await Promise.all(running);
    output.end();
  };

  const producer = produce().catch((err: unknown) => {
    for (const pipeline of pipelines.values()) pipeline.input.fail(err);
    output.fail(err);
  });
  try {
    yield* output;
  } finally {
    output.fail(new Error('extraction stopped'));
    for (const pipeline of pipelines.values()) pipeline.input.fail(new Error('extraction stopped'));
    await producer;
    await Promise.allSettled(running);
  }
}

export interface DecodedInspectedFile extends InspectedFile {
  /** The name in the stream when the file was decoded (size and sha256 are then of the decoded bytes). */
  decodedFrom?: SafePath;
  layers?: Layer[];
}

/**
 * Like `inspectXbstream`, but files with layers the decoder removes are decoded (every frame, chunk,
 * checksum and authentication tag checked) and reported by their decoded name, size and SHA-256.
 */
export async function inspectDecodedXbstream(
  input: AsyncIterable<Uint8Array>,
  decoder: Pick<Decoder, 'plan' | 'decode'>,
  onFile: (file: DecodedInspectedFile) => void,
  options: XbstreamReaderOptions = {},
): Promise<InspectSummary> {
  const summary: InspectSummary = { files: 0, chunks: 0, removed: [], renamed: [], skippedChunks: 0 };
  const decoded = new Map<SafePath, DecodedFileInfo>();
  const open = new Map<SafePath, { hasher: FileHasher; end: number; chunks: Set<number> }>();
  let lastChunk = 0;
  const events = decodeXbstreamEvents(readXbstream(input, options), decoder, { onDecoded: (info) => decoded.set(info.to, info) });
  for await (const event of events) {
    lastChunk = Math.max(lastChunk, event.chunk);
    if (event.type === 'data' || event.type === 'seek' || event.type === 'eof') {
      let state = open.get(event.path);
      if (state === undefined) {
        state = { hasher: new FileHasher(), end: 0, chunks: new Set() };
        open.set(event.path, state);
      }
      if (event.type === 'data') {
        state.chunks.add(event.chunk);
        state.hasher.update(event.offset, event.data);
        state.end = Math.max(state.end, event.offset + event.data.length);
      } else if (event.type === 'eof') {
        open.delete(event.path);
        const { size, sha256 } = state.hasher.finish(state.end);
        const info = decoded.get(event.path);
        decoded.delete(event.path);
        summary.files += 1;
        onFile({
          path: event.path,
          size,
          sha256,
          chunks: state.chunks.size + 1,
          ...(info === undefined ? {} : { decodedFrom: info.from, layers: info.layers }),
        });
      }
    } else if (event.type === 'remove') summary.removed.push(event.path);
    else if (event.type === 'rename') summary.renamed.push({ from: event.path, to: event.to });
    else summary.skippedChunks += 1;
  }
  summary.chunks = lastChunk;
  return summary;
}
