/** The stream-backup jobs: back up a tree as a stream, extract, list and verify streams, decode files in place. */
export { type BackupStreamOptions, type BackupStreamResult, backupStream, type StreamFormat } from './backup.js';
export { createXbstream, type CreateXbstreamOptions, type CreateXbstreamResult } from './create-xbstream.js';
export { decodeInPlace, type DecodeInPlaceOptions, type InPlaceFile, type InPlaceSummary } from './decode-in-place.js';
export { extractStream, type ExtractStreamOptions } from './extract.js';
export { listStream, type ListStreamOptions } from './list.js';
export type { SentStream, StreamOutput } from './output.js';
export type { StreamProgress } from './progress.js';
export type { OnReport } from './reports.js';
export { type VerifiedFile, verifyStream, type VerifyStreamOptions, type VerifyStreamResult } from './verify.js';
export type { ApplySummary } from '../../sink/apply-xbstream.js';
export { createDecoder, type Decoder, type DecodeOptions } from '../../transform/decode.js';
export type { EncodeChainOptions } from '../../transform/encode-chain.js';
