/** The mydumper `--stream` container: `\n-- NAME SIZE\n` + SIZE bytes per file, `metadata` last. */
export * from './codec.js';
export { readMydumperStream, type StreamFile, type StreamReaderOptions } from './reader.js';
export { MydumperStreamWriter } from './writer.js';
