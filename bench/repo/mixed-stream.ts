/**
 * A deterministic "mixed" byte stream like a nightly database backup: SQL text (compressible),
 * incompressible bytes (already-compressed blobs) and page-like binary (16 KiB pages with headers,
 * structured rows and free space). Generated on the fly: memory stays at one segment.
 *
 * `change` regenerates a fraction of the segments (by bytes) from another seed, keeping every
 * segment's length, so the changed stream has the same size and differs in about that fraction.
 */

export interface MixedStreamOptions {
  size: number;
  seed?: number;
  /** Fraction of bytes (0..1) to regenerate differently, and the seed that picks them. */
  change?: { fraction: number; seed: number };
}

const MIN_SEGMENT = 1 << 20;
const MAX_SEGMENT = 6 << 20;
const PAGE = 16384;

class Xorshift {
  #x: number;
  constructor(seed: number) {
    this.#x = (Math.imul(seed ^ 0x9e3779b9, 2654435761) >>> 0) || 1;
  }
  next(): number {
    let x = this.#x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#x = x >>> 0;
    return this.#x;
  }
  below(n: number): number {
    return this.next() % n;
  }
  fill(out: Uint8Array): void {
    const whole = out.length & ~3;
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let i = 0; i < whole; i += 4) view.setUint32(i, this.next(), true);
    for (let i = whole; i < out.length; i++) out[i] = this.next() & 0xff;
  }
}

type Kind = 'sql' | 'random' | 'pages';

interface Segment {
  kind: Kind;
  length: number;
  contentSeed: number;
}

function* segments(opts: MixedStreamOptions): Generator<Segment> {
  const seed = opts.seed ?? 1;
  const layout = new Xorshift(seed);
  const changer = opts.change === undefined ? undefined : new Xorshift(opts.change.seed);
  const fraction = opts.change?.fraction ?? 0;
  let left = opts.size;
  let index = 0;
  while (left > 0) {
    const pick = layout.below(10);
    const kind: Kind = pick < 4 ? 'sql' : pick < 7 ? 'random' : 'pages';
    const length = Math.min(left, MIN_SEGMENT + layout.below(MAX_SEGMENT - MIN_SEGMENT));
    const changed = changer !== undefined && changer.next() / 2 ** 32 < fraction;
    const contentSeed = changed ? (opts.change?.seed ?? 0) * 1_000_003 + index + 7 : seed * 1_000_003 + index;
    yield { kind, length, contentSeed };
    left -= length;
    index += 1;
  }
}

const WORDS = [
  'alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima',
  'mike', 'november', 'oscar', 'papa', 'quebec', 'romeo', 'sierra', 'tango', 'uniform', 'victor', 'whiskey',
  'xray', 'yankee', 'zulu', 'shipped', 'pending', 'refunded', 'customer', 'order', 'invoice', 'warehouse',
];

function sqlSegment(length: number, rng: Xorshift): Uint8Array {
  const out = new Uint8Array(length);
  const encoder = new TextEncoder();
  let at = 0;
  let id = rng.below(1_000_000);
  while (at < length) {
    let text = 'INSERT INTO `orders` VALUES ';
    for (let row = 0; row < 40; row++) {
      id += 1 + rng.below(3);
      const words = `${WORDS[rng.below(WORDS.length)]} ${WORDS[rng.below(WORDS.length)]} ${WORDS[rng.below(WORDS.length)]}`;
      const day = 1 + rng.below(28);
      const cents = rng.below(1_000_000);
      text += `(${id},${rng.below(50_000)},'${words}','user${rng.below(100_000)}@example.com','2024-0${1 + rng.below(9)}-${day < 10 ? '0' : ''}${day} ${rng.below(24)}:${rng.below(60)}:${rng.below(60)}',${Math.floor(cents / 100)}.${cents % 100}),`;
    }
    text = `${text.slice(0, -1)};\n`;
    const { written } = encoder.encodeInto(text, out.subarray(at));
    at += written;
  }
  return out;
}

function pageSegment(length: number, rng: Xorshift): Uint8Array {
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  const row = new Uint8Array(64);
  for (let page = 0; page * PAGE < length; page++) {
    const base = page * PAGE;
    const end = Math.min(length, base + PAGE);
    if (base + 38 <= end) {
      view.setUint32(base, rng.next());
      view.setUint32(base + 4, page);
      view.setUint32(base + 16, rng.next());
      view.setUint16(base + 24, 17855);
    }
    const used = 38 + rng.below(PAGE - 38);
    let at = base + 38;
    let key = rng.below(1 << 20);
    while (at + row.length <= Math.min(end, base + used)) {
      key += 1;
      row.fill(0);
      new DataView(row.buffer).setUint32(0, key);
      new DataView(row.buffer).setUint32(4, rng.below(100));
      for (let i = 8; i < 24; i++) row[i] = 97 + rng.below(8);
      out.set(row, at);
      at += row.length;
    }
  }
  return out;
}

function segmentBytes(segment: Segment): Uint8Array {
  const rng = new Xorshift(segment.contentSeed);
  if (segment.kind === 'sql') return sqlSegment(segment.length, rng);
  if (segment.kind === 'pages') return pageSegment(segment.length, rng);
  const out = new Uint8Array(segment.length);
  rng.fill(out);
  return out;
}

/** Yields the stream in pieces of at most 1 MiB. */
export async function* mixedStream(opts: MixedStreamOptions): AsyncGenerator<Uint8Array> {
  for (const segment of segments(opts)) {
    const bytes = segmentBytes(segment);
    for (let at = 0; at < bytes.length; at += 1 << 20) yield bytes.subarray(at, Math.min(bytes.length, at + (1 << 20)));
  }
}
