/**
 * The mydumper stream (mydumper ≥ 0.14.1): every file is sent as a header line
 * `"\n-- " NAME " " SIZE "\n"` followed by exactly SIZE raw bytes. There is no magic, no checksum and
 * no end record; the last file of a complete dump is `metadata`. See docs/formats/mydumper-stream.md.
 *
 * This module holds the pure parts: the header encoding and decoding, the file-name check and the
 * `--stream` modes. It knows nothing about MySQL.
 */
import { FormatError, UnsafePathError, UsageError } from '../../errors.js';

/** The bytes every header starts with: LF, two dashes, a space. */
export const HEADER_PREFIX = Uint8Array.of(0x0a, 0x2d, 0x2d, 0x20);
/** Longest header line we accept (prefix, name, space, size, LF). Names are basenames (≤ 255 bytes on Linux). */
export const MAX_HEADER_BYTES = 1024;
export const MAX_NAME_BYTES = 255;
/** The file whose arrival marks a complete dump; it is always sent last. */
export const FINAL_FILE = 'metadata';

export const STREAM_MODES = ['TRADITIONAL', 'NO_DELETE', 'NO_STREAM_AND_NO_DELETE', 'NO_STREAM'] as const;
export type StreamMode = (typeof STREAM_MODES)[number];

export interface StreamModeFlags {
  /** File contents travel in the stream (false: only `NAME 0` headers; the files are in a shared directory). */
  sendContent: boolean;
  /** The local copy of each file is deleted once it has been sent (dump) or loaded (load). */
  deleteFiles: boolean;
}

export function streamModeFlags(mode: StreamMode): StreamModeFlags {
  switch (mode) {
    case 'TRADITIONAL':
      return { sendContent: true, deleteFiles: true };
    case 'NO_DELETE':
      return { sendContent: true, deleteFiles: false };
    case 'NO_STREAM_AND_NO_DELETE':
      return { sendContent: false, deleteFiles: false };
    case 'NO_STREAM':
      return { sendContent: false, deleteFiles: true };
  }
}

/**
 * A `--stream` value: a mode name (any case) or mydumper's numeric form 0-7, where bit 1 is
 * "no delete" and bit 2 is "no stream" (bit 0, "no sync", changes nothing for us).
 */
export function parseStreamMode(text: string): StreamMode {
  const t = text.trim().toUpperCase();
  if (t === '') return 'TRADITIONAL';
  if ((STREAM_MODES as readonly string[]).includes(t)) return t as StreamMode;
  if (/^[0-7]$/.test(t)) {
    const n = Number(t);
    const noDelete = (n & 2) !== 0;
    const noStream = (n & 4) !== 0;
    if (noStream) return noDelete ? 'NO_STREAM_AND_NO_DELETE' : 'NO_STREAM';
    return noDelete ? 'NO_DELETE' : 'TRADITIONAL';
  }
  throw new UsageError(`--stream: "${text}" is not one of ${STREAM_MODES.join(', ')} (or 0-7)`);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A name from a stream header is untrusted: it must be a plain basename that is safe to create
 * inside the load directory. Rejects rather than repairs.
 */
export function checkStreamFileName(name: string, where: { offset?: number } = {}): string {
  const refuse = (why: string): never => {
    throw new UnsafePathError('E_UNSAFE_NAME', `unsafe file name ${JSON.stringify(name)} in the stream: ${why}`, {
      ...where,
    });
  };
  if (name.length === 0) refuse('empty');
  if (name.includes('\0')) refuse('contains NUL');
  if (name.includes('/')) refuse('contains "/" (only a basename is allowed)');
  if (name.includes('\\')) refuse('contains a backslash');
  if (name === '.' || name === '..') refuse('is a directory reference');
  if (name.includes('..')) refuse('contains ".."');
  if (/[\x00-\x1f\x7f]/.test(name)) refuse('contains a control character');
  if (encoder.encode(name).length > MAX_NAME_BYTES) refuse(`longer than ${MAX_NAME_BYTES} bytes`);
  return name;
}

/** `\n-- NAME SIZE\n` */
export function encodeHeader(name: string, size: number): Uint8Array {
  checkStreamFileName(name);
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad size ${size} for ${name}`);
  return encoder.encode(`\n-- ${name} ${size}\n`);
}

export interface DecodedHeader {
  name: string;
  size: number;
}

/**
 * Decodes the text of one header line: the bytes after `\n-- ` and before the closing LF.
 * The size is the last space-separated token, so a name may contain spaces.
 * `offset` is the stream offset of the header, for error messages.
 */
export function decodeHeaderLine(line: Uint8Array, offset: number): DecodedHeader {
  let text: string;
  try {
    text = decoder.decode(line);
  } catch {
    throw new FormatError('E_BAD_HEADER', 'file header is not valid UTF-8', { offset });
  }
  const space = text.lastIndexOf(' ');
  if (space < 0) {
    throw new FormatError(
      'E_BAD_HEADER',
      `file header "-- ${text}" has no size (streams from mydumper before 0.14.1 carry none and are not supported)`,
      { offset, path: text },
    );
  }
  const name = text.slice(0, space);
  const sizeText = text.slice(space + 1);
  if (!/^\d{1,16}$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new FormatError('E_BAD_HEADER', `file header declares an invalid size "${sizeText}"`, { offset, path: name });
  }
  checkStreamFileName(name, { offset });
  return { name, size: Number(sizeText) };
}
