/**
 * Decoding by file name, as `xbstream -x --decompress --decrypt` does: a backup tool adds at most one
 * encryption suffix outside at most one compression suffix (`x.zst.age`, Percona's `x.qp.xbcrypt`), so
 * at most those two layers are removed, from the outside in (`x.zst.age` → `x.zst` → `x`). A name like
 * `dump.zst.zst` is a `.zst` file that was compressed again and decodes to `dump.zst`. A layer is
 * removed only when the caller asked for that kind of decoding; the first layer that is not is where
 * decoding stops. Names with no known suffix pass through untouched.
 */
import type { FileEntry } from '../entry.js';
import { toSafePath } from '../entry.js';
import { ExitCode, FormatError, SluiceError } from '../errors.js';
import type { AgeDecryptor } from './age/decrypt.js';
import type { FileTransform } from './entry-transform.js';
import { BlockPool } from './pool/block-pool.js';

export type Layer = 'zstd' | 'lz4' | 'qpress' | 'age' | 'xbcrypt';
export type CompressionLayer = Extract<Layer, 'zstd' | 'lz4' | 'qpress'>;
export type EncryptionLayer = Extract<Layer, 'age' | 'xbcrypt'>;

export const LAYER_SUFFIX: Record<Layer, string> = {
  zstd: '.zst',
  lz4: '.lz4',
  qpress: '.qp',
  age: '.age',
  xbcrypt: '.xbcrypt',
};
const LAYERS = Object.keys(LAYER_SUFFIX) as Layer[];

export function isCompression(layer: Layer): layer is CompressionLayer {
  return layer === 'zstd' || layer === 'lz4' || layer === 'qpress';
}

/** The layer a name's last suffix stands for, if any. */
export function outerLayer(path: string): Layer | undefined {
  return LAYERS.find((l) => path.endsWith(LAYER_SUFFIX[l]) && path.length > LAYER_SUFFIX[l].length && !path.endsWith(`/${LAYER_SUFFIX[l]}`));
}

/**
 * The layers a backup tool added to a name, outermost first (at most one encryption layer, then at most
 * one compression layer), and the name without them.
 */
export function encodingLayers(path: string): { layers: Layer[]; plainPath: string } {
  const layers: Layer[] = [];
  let p = path;
  let l = outerLayer(p);
  if (l !== undefined && !isCompression(l)) {
    layers.push(l);
    p = p.slice(0, -LAYER_SUFFIX[l].length);
    l = outerLayer(p);
  }
  if (l !== undefined && isCompression(l)) {
    layers.push(l);
    p = p.slice(0, -LAYER_SUFFIX[l].length);
  }
  return { layers, plainPath: p };
}

export interface DecodeOptions {
  /** Remove compression layers (.zst, .lz4, .qp). */
  decompress: boolean;
  /** Remove encryption layers (.age with `age`, .xbcrypt with `xbcryptKey`). */
  decrypt: boolean;
  /** X25519 identities and/or passphrases for `.age` files. */
  age?: { identities?: readonly string[]; passphrases?: readonly string[] };
  /** Raw AES key (16, 24 or 32 bytes) for Percona `.xbcrypt` files. */
  xbcryptKey?: Uint8Array;
  /** Worker threads for decompression (default 1). */
  decompressThreads?: number;
  /** Worker threads for decryption (default 1). */
  decryptThreads?: number;
  /** Told once when an unauthenticated format (xbcrypt) is decrypted. */
  onWarning?: (message: string) => void;
  /**
   * Refuse any file that decodes to more than this many bytes (default: no limit). Decoding never holds
   * more than a few blocks in memory whatever a file expands to; this caps what an untrusted stream can
   * make a decoder write. There is no default ratio cap: a preallocated tablespace of zeros legitimately
   * expands 30,000 to 1 under zstd.
   */
  maxDecodedBytes?: number;
}

async function* capped(source: AsyncIterable<Uint8Array>, path: string, max: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const piece of source) {
    total += piece.length;
    if (total > max) {
      throw new FormatError('E_DECODED_TOO_LARGE', `decodes to more than the ${max} bytes allowed (--max-decoded-size)`, { path });
    }
    yield piece;
  }
}

export interface Decoder {
  /** Renames the entry and decodes its content lazily (a FileTransform). */
  transform: FileTransform;
  /** The layers this decoder removes from a file of this name, outermost first (empty: untouched). */
  plan(path: string): Layer[];
  /** Decodes one byte stream through the given layers (outermost first). */
  decode(content: AsyncIterable<Uint8Array>, path: string, layers: readonly Layer[]): AsyncIterable<Uint8Array>;
  readonly pools: readonly BlockPool[];
}

/**
 * Async because each decoder's module is loaded only when the options ask for it: the decompressors with
 * `decompress`, xbcrypt with its key, the age module (and `age-encryption`) with age keys. A command that
 * decodes nothing loads none of them.
 */
export async function createDecoder(options: DecodeOptions): Promise<Decoder> {
  const decompressPool = new BlockPool({ threads: options.decompressThreads ?? 1 });
  const decryptPool = new BlockPool({ threads: options.decryptThreads ?? 1 });
  const hasAge = (options.age?.identities?.length ?? 0) + (options.age?.passphrases?.length ?? 0) > 0;
  const [zstd, lz4, qpress] = options.decompress
    ? await Promise.all([import('./zstd/decoder.js'), import('./lz4/decoder.js'), import('./qpress/decoder.js')])
    : [];
  const xbcrypt = options.xbcryptKey !== undefined ? await import('./xbcrypt/decoder.js') : undefined;
  if (options.xbcryptKey !== undefined) xbcrypt?.checkXbcryptKey(options.xbcryptKey, 'the xbcrypt key');
  const ageDecryptor =
    options.decrypt && hasAge ? new (await import('./age/decrypt.js')).AgeDecryptor({ ...options.age, pool: decryptPool }) : undefined;
  let warnedXbcrypt = false;

  function plan(path: string): Layer[] {
    const out: Layer[] = [];
    for (const layer of encodingLayers(path).layers) {
      if (isCompression(layer) ? !options.decompress : !options.decrypt) break;
      if (layer === 'age' && ageDecryptor === undefined) {
        throw new SluiceError('E_NO_KEY', `${path} is age-encrypted: give --identity or --passphrase-file to decrypt it`, { path }, {
          exitCode: ExitCode.usage,
        });
      }
      if (layer === 'xbcrypt' && options.xbcryptKey === undefined) {
        throw new SluiceError('E_NO_KEY', `${path} is xbcrypt-encrypted: give --encrypt-key or --encrypt-key-file to decrypt it`, { path }, {
          exitCode: ExitCode.usage,
        });
      }
      out.push(layer);
    }
    return out;
  }

  /** A layer this decoder was not asked to remove (so its module is not loaded): a caller's mistake. */
  const notEnabled = (layer: Layer): never => {
    throw new Error(`this decoder was not created to remove the ${layer} layer`);
  };

  function decodeLayer(content: AsyncIterable<Uint8Array>, path: string, layer: Layer): AsyncIterable<Uint8Array> {
    switch (layer) {
      case 'zstd':
        return (zstd ?? notEnabled(layer)).decodeZstd(content, { pool: decompressPool, path });
      case 'lz4':
        return (lz4 ?? notEnabled(layer)).decodeLz4(content, { pool: decompressPool, path });
      case 'qpress':
        return (qpress ?? notEnabled(layer)).decodeQpress(content, { pool: decompressPool, path });
      case 'age':
        return (ageDecryptor as AgeDecryptor).decrypt(content, path);
      case 'xbcrypt':
        if (!warnedXbcrypt) {
          warnedXbcrypt = true;
          options.onWarning?.(
            `${path}: xbcrypt is not authenticated encryption (AES-CTR with an unkeyed CRC32): a wrong key or damage is detected, deliberate tampering may not be`,
          );
        }
        return (xbcrypt ?? notEnabled(layer)).decodeXbcrypt(content, { pool: decryptPool, path, key: options.xbcryptKey as Uint8Array });
    }
  }

  function decode(content: AsyncIterable<Uint8Array>, path: string, layers: readonly Layer[]): AsyncIterable<Uint8Array> {
    let out = content;
    let name = path;
    for (const layer of layers) {
      out = decodeLayer(out, name, layer);
      name = name.slice(0, -LAYER_SUFFIX[layer].length);
    }
    return options.maxDecodedBytes === undefined || layers.length === 0 ? out : capped(out, path, options.maxDecodedBytes);
  }

  const transform: FileTransform = (entry: FileEntry): FileEntry => {
    const layers = plan(entry.path);
    if (layers.length === 0) return entry;
    let path = entry.path as string;
    for (const l of layers) path = path.slice(0, -LAYER_SUFFIX[l].length);
    const { size: _size, ...rest } = entry;
    return { ...rest, path: toSafePath(path), content: decode(entry.content, entry.path, layers) };
  };

  return { transform, plan, decode, pools: [decompressPool, decryptPool] };
}
