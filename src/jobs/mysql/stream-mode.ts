/** The modes of a mydumper stream (`--stream=TRADITIONAL|NO_DELETE|NO_STREAM_AND_NO_DELETE|NO_STREAM`), for dump and load. */
export { parseStreamMode, STREAM_MODES, type StreamMode, streamModeFlags } from '../../container/mydumper-stream/codec.js';
