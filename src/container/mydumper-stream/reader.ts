/**
 * Reads a mydumper stream (bytes → files). Driven by the declared sizes only: file contents are
 * never scanned for headers, so binary and compressed files and files that contain "\n-- " are safe.
 *
 * Checks beyond mydumper's own reader (which warns and carries on):
 *  - every header is well formed, its name a safe basename, its size a non-negative safe integer;
 *  - every file has exactly its declared size (input ending inside a file is an error naming the file);
 *  - no name is sent twice;
 *  - the stream ends right after the final `metadata` file: a stream without it is incomplete, and
 *    bytes after it are an error.
 */
import { ByteReader } from '../../bytes/byte-reader.js';
import { FormatError } from '../../errors.js';
import { decodeHeaderLine, FINAL_FILE, HEADER_PREFIX, MAX_HEADER_BYTES } from './codec.js';

export interface StreamFile {
  name: string;
  /** Declared size (0 for header-only streams). */
  size: number;
  /** Stream offset of the header's first byte. */
  headerOffset: number;
  /** Stream offset of the first content byte. */
  contentOffset: number;
  /** Exactly `size` bytes; must be consumed (or is skipped) before the next file is read. */
  content: AsyncIterable<Uint8Array>;
}

export interface StreamReaderOptions {
  /**
   * false for the NO_STREAM modes: every header must declare size 0 and no content follows
   * (the files are in a directory shared with the dumper).
   */
  expectContent?: boolean;
  /** Largest file accepted, in bytes (default: no limit beyond the safe-integer range). */
  maxFileBytes?: number;
  /** Name used in error messages for the input. */
  label?: string;
}

export async function* readMydumperStream(
  source: AsyncIterable<Uint8Array>,
  options: StreamReaderOptions = {},
): AsyncGenerator<StreamFile> {
  const expectContent = options.expectContent ?? true;
  const maxFileBytes = options.maxFileBytes ?? Number.MAX_SAFE_INTEGER;
  const label = options.label ?? 'the stream';
  const reader = new ByteReader(source, label);
  const seen = new Set<string>();
  let last: string | undefined;
  try {
    for (;;) {
      const headerOffset = reader.offset;
      const prefix = await readHeaderPrefix(reader, headerOffset, last);
      if (prefix === 'end') break;
      if (last === FINAL_FILE) {
        throw new FormatError('E_AFTER_END', `${label} continues after the final "${FINAL_FILE}" file`, {
          offset: headerOffset,
        });
      }
      const line = await readHeaderLine(reader, headerOffset, label);
      const { name, size } = decodeHeaderLine(line, headerOffset);
      if (seen.has(name)) {
        throw new FormatError('E_DUPLICATE', `${label} sends file "${name}" twice`, { path: name, offset: headerOffset });
      }
      seen.add(name);
      if (!expectContent && size !== 0) {
        throw new FormatError(
          'E_UNEXPECTED_CONTENT',
          `header declares ${size} bytes, but in a NO_STREAM mode only "NAME 0" headers are expected ` +
            '(was this stream made with content? load it with --stream=TRADITIONAL)',
          { path: name, offset: headerOffset },
        );
      }
      if (size > maxFileBytes) {
        throw new FormatError('E_TOO_LARGE', `file declares ${size} bytes, more than the limit of ${maxFileBytes}`, {
          path: name,
          offset: headerOffset,
        });
      }
      const contentOffset = reader.offset;
      const progress = { got: 0 };
      const content = contentOf(reader, name, size, contentOffset, label, progress);
      yield { name, size, headerOffset, contentOffset, content };
      if (progress.got < size) {
        // The consumer left part of the file: skip it, with the same truncation check.
        for await (const _ of contentOf(reader, name, size, contentOffset, label, progress)) {
          // discard
        }
      }
      last = name;
    }
    if (last === undefined) throw new FormatError('E_EMPTY', `${label} is empty: no file header at all`, { offset: 0 });
    if (last !== FINAL_FILE) {
      throw new FormatError(
        'E_INCOMPLETE',
        `${label} ended after file "${last}" without the final "${FINAL_FILE}" file: the dump is incomplete`,
        { path: last, offset: reader.offset },
      );
    }
  } finally {
    await reader.close();
  }
}

async function readHeaderPrefix(
  reader: ByteReader,
  offset: number,
  last: string | undefined,
): Promise<'end' | 'header'> {
  const first = await reader.readExact(1, 'a file header', true);
  if (first === undefined) return 'end';
  const rest = await reader.readExact(HEADER_PREFIX.length - 1, 'a file header');
  const got = Uint8Array.of(first[0] as number, ...(rest as Uint8Array));
  for (let i = 0; i < HEADER_PREFIX.length; i++) {
    if (got[i] !== HEADER_PREFIX[i]) {
      const after = last === undefined ? 'at the start of the stream' : `after file "${last}"`;
      throw new FormatError(
        'E_BAD_HEADER',
        `expected a file header ("\\n-- NAME SIZE") ${after}, found ${JSON.stringify(new TextDecoder().decode(got))}` +
          (last === undefined ? '' : ': the previous file is longer than its declared size, or the stream is corrupt'),
        { offset, ...(last === undefined ? {} : { path: last }) },
      );
    }
  }
  return 'header';
}

async function readHeaderLine(reader: ByteReader, offset: number, label: string): Promise<Uint8Array> {
  const line = new Uint8Array(MAX_HEADER_BYTES);
  let n = 0;
  for (;;) {
    const b = await reader.readExact(1, 'a file header');
    const byte = (b as Uint8Array)[0] as number;
    if (byte === 0x0a) return line.subarray(0, n);
    if (n >= MAX_HEADER_BYTES) {
      throw new FormatError('E_BAD_HEADER', `${label}: file header longer than ${MAX_HEADER_BYTES} bytes`, { offset });
    }
    line[n++] = byte;
  }
}

async function* contentOf(
  reader: ByteReader,
  name: string,
  size: number,
  contentOffset: number,
  label: string,
  progress: { got: number },
): AsyncGenerator<Uint8Array> {
  while (progress.got < size) {
    const piece = await reader.readSome(size - progress.got);
    if (piece === undefined) {
      throw new FormatError(
        'E_TRUNCATED',
        `${label} is truncated inside file "${name}": it declares ${size} bytes, only ${progress.got} arrived`,
        { path: name, offset: contentOffset + progress.got },
      );
    }
    progress.got += piece.length;
    yield piece;
  }
}
