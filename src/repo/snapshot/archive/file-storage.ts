/**
 * How a file's content is stored: a small one (by its stat size) is read whole and stored as one chunk
 * without the chunk pipeline; a larger one, or one that grew past the limit while read, is streamed
 * through the chunker.
 */
import type { Entry } from '../../../entry.js';
import { SluiceError } from '../../../errors.js';
import type { SavedStream } from '../../content/stream-saver.js';
import type { SmallFileResult, ContentWriter } from '../../content/content-writer.js';
import type { TreeNode } from '../tree.js';
import { type ArchiveProgress, fileNode } from './nodes.js';

/** Files up to this size are read whole and stored without the chunk pipeline (they are one chunk). */
export const SMALL_FILE_BYTES = 256 * 1024;

async function* concatStreams(head: readonly Uint8Array[], rest: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* head;
  yield* rest;
}

export class FileStorage {
  readonly #session: ContentWriter;
  readonly #progress: ArchiveProgress;
  /** The largest file stored whole: SMALL_FILE_BYTES, or less when the chunker's minimum is smaller. */
  readonly smallLimit: number;

  constructor(session: ContentWriter, progress: ArchiveProgress, chunkerMin: number) {
    this.#session = session;
    this.#progress = progress;
    this.smallLimit = Math.min(SMALL_FILE_BYTES, chunkerMin);
  }

  /** Streams content through the chunker, counting its bytes. */
  stream(content: Parameters<ContentWriter['saveStream']>[0]): Promise<SavedStream> {
    return this.#session.saveStream(content, (n) => {
      this.#progress.bytes += n;
    });
  }

  /** Stores a file entry's content: whole when small, else streamed. */
  async save(entry: Entry & { kind: 'file' }): Promise<SavedStream> {
    const limit = this.smallLimit;
    if (entry.size === undefined || entry.size > limit) return this.stream(entry.content);
    const pieces: Uint8Array[] = [];
    let have = 0;
    const iterator = entry.content[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      // Copy: the source may recycle its read buffer once we ask for more.
      pieces.push(Uint8Array.from(next.value));
      have += next.value.length;
      this.#progress.bytes += next.value.length;
      if (have > limit) {
        // The file grew since it was listed: store it as a stream after all.
        const rest = { [Symbol.asyncIterator]: () => iterator };
        return this.#session.saveStream(concatStreams(pieces, rest), () => undefined);
      }
    }
    return this.#session.saveSmall(pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces));
  }

  /** The node of a small file stored by the batcher on the workers (or, when it grew past the limit, streamed now). */
  async smallFileNode(name: string, entry: Entry & { kind: 'file' }, full: string, result: SmallFileResult): Promise<TreeNode> {
    if ('error' in result) {
      throw new SluiceError('E_READ', `cannot read ${full}: ${result.error.message}`, { path: entry.path });
    }
    let saved: SavedStream;
    if ('tooLarge' in result) {
      saved = await this.stream(entry.content);
    } else {
      saved = result.saved;
      this.#progress.bytes += saved.size;
    }
    return fileNode(this.#session, name, entry, saved);
  }
}
