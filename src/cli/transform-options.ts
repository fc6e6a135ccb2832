/**
 * Command-line options for compression and encryption, shared by every command that writes or reads
 * backup files. Call the `add*Options` functions on a command, merge the matching `*_OPTIONAL_VALUES`
 * into the command module's `optionalValues`, and turn the parsed options into a job's options with
 * `encodeChainOptionsFrom` / `decoderFrom`.
 *
 *
 * The options, their defaults and help texts are defined once, in `addEncodeOptions` (writing: `backup`,
 * `xbstream -c`) and `addDecodeOptions` (reading: `xbstream -x`, `verify`, `decompress`, `decrypt`) below;
 * `--help` of those commands lists them. (A copy of the list here drifted from them.)
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseIdentities, parsePassphraseFile, parseRecipients } from '../transform/age/key-files.js';
import {
  type CompressionAlgorithm,
  DEFAULT_COMPRESS_BLOCK_BYTES,
  MAX_COMPRESS_BLOCK_BYTES,
  MIN_COMPRESS_BLOCK_BYTES,
  ZSTD_MAX_LEVEL,
  ZSTD_MIN_LEVEL,
} from '../transform/compress.js';
import { createDecoder, type Decoder, encodingLayers, type Layer } from '../transform/decode.js';
import type { EncodeChainOptions } from '../transform/encode-chain.js';
import type { CliContext } from './context.js';
import { warn } from './log.js';
import { parseCount, parseSize } from './units.js';

/** Merge into the `optionalValues` of a command that calls addEncodeOptions. */
export const ENCODE_OPTIONAL_VALUES = { '--compress': ['zstd', 'lz4'], '--encrypt': ['age'] } as const;
/** Merge into the `optionalValues` of a command that calls addDecodeOptions. */
export const DECODE_OPTIONAL_VALUES = { '--decrypt': ['auto', 'age', 'AES128', 'AES192', 'AES256'] } as const;

export interface EncodeOptions {
  compress?: string;
  compressZstdLevel?: string;
  compressThreads?: string;
  compressChunkSize?: string;
  encrypt?: string;
  recipient?: string[];
  recipientsFile?: string[];
  passphraseFile?: string;
  encryptThreads?: string;
}

export interface DecodeOptions {
  decompress?: boolean;
  decompressThreads?: string;
  decrypt?: string;
  identity?: string[];
  passphraseFile?: string;
  encryptKey?: string;
  encryptKeyFile?: string;
  encryptThreads?: string;
  maxDecodedSize?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function has(command: Command, long: string): boolean {
  return command.options.some((o) => o.long === long);
}

/** Adds an option unless the command already has it (the encode and decode sets share a few). */
function addOnce(command: Command, flags: string, description: string, ...rest: unknown[]): void {
  const long = /--[a-z0-9-]+/.exec(flags)?.[0] ?? flags;
  if (has(command, long)) return;
  (command.option as (...args: unknown[]) => Command)(flags, description, ...rest);
}

export function addEncodeOptions(command: Command): Command {
  addOnce(command, '--compress [algorithm]', 'compress each file: zstd (the default) or lz4; x becomes x.zst or x.lz4');
  addOnce(command, '--compress-zstd-level <n>', `zstd level, ${ZSTD_MIN_LEVEL}..${ZSTD_MAX_LEVEL}`, '1');
  addOnce(command, '--compress-threads <n>', 'compression worker threads, shared by all files', '1');
  addOnce(
    command,
    '--compress-chunk-size <size>',
    'input bytes per compressed frame, the unit of parallel work (64K..16M)',
    `${DEFAULT_COMPRESS_BLOCK_BYTES >> 20}M`,
  );
  addOnce(command, '--encrypt [format]', 'encrypt each file with age (after compression): x.zst becomes x.zst.age');
  addOnce(command, '--recipient <recipient>', 'age X25519 recipient (age1...) to encrypt to (repeatable)', collect);
  addOnce(command, '--recipients-file <file>', 'file of age recipients, one per line (repeatable)', collect);
  addOnce(command, '--passphrase-file <file>', 'age passphrase (scrypt), read from FILE (one trailing newline is ignored)');
  addOnce(command, '--encrypt-threads <n>', 'encryption/decryption worker threads', '1');
  return command;
}

export function addDecodeOptions(command: Command): Command {
  addOnce(command, '--decompress', 'decompress .zst, .lz4 and .qp (MariaDB qpress) files, removing the suffix');
  addOnce(command, '--decompress-threads <n>', 'decompression worker threads', '1');
  addOnce(command, '--decrypt [algorithm]', 'decrypt .age files (--identity or --passphrase-file) and Percona .xbcrypt files (--encrypt-key[-file])');
  addOnce(command, '--identity <file>', 'age identity file, as written by age-keygen (repeatable)', collect);
  addOnce(command, '--passphrase-file <file>', 'age passphrase (scrypt), read from FILE (one trailing newline is ignored)');
  addOnce(command, '--encrypt-key <key>', 'raw AES key of Percona .xbcrypt files (16, 24 or 32 bytes)');
  addOnce(command, '--encrypt-key-file <file>', 'file holding the raw AES key of .xbcrypt files, used byte for byte');
  addOnce(command, '--max-decoded-size <size>', 'refuse any file that decodes to more than SIZE (default: no limit)');
  addOnce(command, '--encrypt-threads <n>', 'encryption/decryption worker threads', '1');
  return command;
}

function readText(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${option} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

function threads(value: string | undefined, option: string): number {
  return parseCount(value ?? '1', option, 1, 64);
}

/** What `backup` does to every file, from the encode options: compress, then encrypt (either may be absent). */
export function encodeChainOptionsFrom(options: EncodeOptions): Omit<EncodeChainOptions, 'buffers'> {
  const chain: EncodeChainOptions = {};
  if (options.compress !== undefined) {
    const algorithm = options.compress;
    if (algorithm !== 'zstd' && algorithm !== 'lz4') {
      if (/^quicklz$/i.test(algorithm)) throw new UsageError('--compress=quicklz: sluice reads .qp files but writes zstd or lz4');
      throw new UsageError(`--compress must be zstd or lz4, not "${algorithm}"`);
    }
    const level = parseCount(options.compressZstdLevel ?? '1', '--compress-zstd-level', ZSTD_MIN_LEVEL, ZSTD_MAX_LEVEL);
    const blockBytes = parseSize(options.compressChunkSize ?? `${DEFAULT_COMPRESS_BLOCK_BYTES}`, '--compress-chunk-size');
    if (blockBytes < MIN_COMPRESS_BLOCK_BYTES || blockBytes > MAX_COMPRESS_BLOCK_BYTES) {
      throw new UsageError(`--compress-chunk-size must be from 64K to 16M, not ${options.compressChunkSize}`);
    }
    chain.compress = { algorithm: algorithm as CompressionAlgorithm, level, blockBytes, threads: threads(options.compressThreads, '--compress-threads') };
  }
  const recipients = [
    ...(options.recipient ?? []),
    ...(options.recipientsFile ?? []).flatMap((f) => parseRecipients(readText(f, '--recipients-file'), f)),
  ];
  const keyGiven = recipients.length > 0 || options.passphraseFile !== undefined;
  if (options.encrypt !== undefined) {
    if (/^AES(128|192|256)$/i.test(options.encrypt)) {
      throw new UsageError(
        `--encrypt=${options.encrypt}: sluice encrypts with age (give --recipient or --passphrase-file); Percona's xbcrypt format is only read (decrypt)`,
      );
    }
    if (options.encrypt !== 'age') throw new UsageError(`--encrypt takes no value but "age", not "${options.encrypt}"`);
    if (!keyGiven) throw new UsageError('--encrypt needs --recipient, --recipients-file or --passphrase-file');
    if (recipients.length > 0 && options.passphraseFile !== undefined) {
      throw new UsageError('give either recipients or --passphrase-file, not both (age files use one or the other)');
    }
    const passphrase =
      options.passphraseFile === undefined ? undefined : parsePassphraseFile(readText(options.passphraseFile, '--passphrase-file'), options.passphraseFile);
    chain.encrypt = { recipients, ...(passphrase === undefined ? {} : { passphrase }), threads: threads(options.encryptThreads, '--encrypt-threads') };
  } else if (keyGiven) {
    throw new UsageError('--recipient, --recipients-file and --passphrase-file only make sense with --encrypt');
  }
  return chain;
}

/** The decoder for the decode options, or undefined when neither --decompress nor --decrypt was given. */
export async function decoderFrom(
  options: DecodeOptions,
  ctx: CliContext,
  force: { decrypt?: boolean; decompress?: boolean } = {},
): Promise<Decoder | undefined> {
  const decompress = force.decompress ?? options.decompress === true;
  const decrypt = force.decrypt ?? options.decrypt !== undefined;
  const identities = (options.identity ?? []).flatMap((f) => parseIdentities(readText(f, '--identity'), f));
  const passphrases =
    options.passphraseFile === undefined ? [] : [parsePassphraseFile(readText(options.passphraseFile, '--passphrase-file'), options.passphraseFile)];
  if (options.encryptKey !== undefined && options.encryptKeyFile !== undefined) {
    throw new UsageError('give --encrypt-key or --encrypt-key-file, not both');
  }
  let xbcryptKey: Uint8Array | undefined;
  if (options.encryptKey !== undefined) xbcryptKey = Buffer.from(options.encryptKey, 'utf8');
  if (options.encryptKeyFile !== undefined) {
    try {
      xbcryptKey = readFileSync(options.encryptKeyFile);
    } catch (err) {
      throw new UsageError(`--encrypt-key-file ${options.encryptKeyFile}: ${(err as Error).message}`);
    }
  }
  if (xbcryptKey !== undefined) {
    const { checkXbcryptKey } = await import('../transform/xbcrypt/decoder.js');
    checkXbcryptKey(xbcryptKey, options.encryptKey !== undefined ? '--encrypt-key' : `--encrypt-key-file ${options.encryptKeyFile}`);
    const want = /^AES(128|192|256)$/i.exec(options.decrypt ?? '');
    if (want !== null && Number(want[1]) / 8 !== xbcryptKey.length) {
      throw new UsageError(`--decrypt=${options.decrypt} needs a ${Number(want[1]) / 8}-byte key, but the key has ${xbcryptKey.length} bytes`);
    }
  }
  const anyKey = identities.length > 0 || passphrases.length > 0 || xbcryptKey !== undefined;
  if (decrypt && !anyKey) {
    throw new UsageError('decrypting needs --identity or --passphrase-file (age), or --encrypt-key / --encrypt-key-file (xbcrypt)');
  }
  if (!decrypt && anyKey && force.decrypt === undefined) {
    throw new UsageError('--identity, --passphrase-file and --encrypt-key[-file] only make sense with --decrypt');
  }
  if (!decompress && !decrypt) return undefined;
  return createDecoder({
    decompress,
    decrypt,
    age: { identities, passphrases },
    ...(xbcryptKey === undefined ? {} : { xbcryptKey }),
    decompressThreads: threads(options.decompressThreads, '--decompress-threads'),
    decryptThreads: threads(options.encryptThreads, '--encrypt-threads'),
    onWarning: (message) => warn(ctx, message),
    ...(options.maxDecodedSize === undefined ? {} : { maxDecodedBytes: parseSize(options.maxDecodedSize, '--max-decoded-size') }),
  });
}

/**
 * What `verify` says about a file's encoding: the layers its name announces, and whether its contents
 * were decoded and checked (then size and SHA-256 are of the decoded bytes, under the decoded name).
 */
export function encodingReport(file: { path: string; decodedFrom?: string; layers?: Layer[] }): {
  text: string;
  json: { encoding?: Layer[]; decodedFrom?: string; contentsChecked?: boolean };
} {
  if (file.decodedFrom !== undefined) {
    const inner = encodingLayers(file.path).layers;
    const layers = [...(file.layers ?? []), ...inner];
    const rest = inner.length > 0 ? `; still ${inner.join('+')}` : '';
    return {
      text: `  (decoded from ${file.decodedFrom}: ${(file.layers ?? []).join('+')} checked${rest})`,
      json: { encoding: layers, decodedFrom: file.decodedFrom, contentsChecked: true },
    };
  }
  const { layers } = encodingLayers(file.path);
  if (layers.length === 0) return { text: '', json: {} };
  return { text: `  (${layers.join('+')}; contents not decoded)`, json: { encoding: layers, contentsChecked: false } };
}
