/**
 * A crypto worker thread: hashes chunks (keyed BLAKE3 id, and the SHA-256 of the stream they belong to),
 * compresses and seals blobs, opens and verifies blobs, reads and stores batches of small files. Chunks are read from slots of a buffer shared
 * with the main thread, so nothing is copied on the way in.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { SluiceError } from '../../errors.js';
import { freeNow } from '../util/free-now.js';
import { BlobCodec } from './blob-codec.js';
import { readFiles, sealFiles } from './small-files.js';
import { type Envelope, isTransferable, ownBuffer, type Reply, type Request, type Response, type SetupMessage, type WorkerSetup } from './protocol.js';

let setup: WorkerSetup | undefined;
let codec: BlobCodec | undefined;
let idKey: Buffer | undefined;
const streams = new Map<number, { hash: Hash; bytes: number }>();

function keyed(): { codec: BlobCodec; idKey: Buffer } {
  if (codec === undefined || idKey === undefined) throw new Error('crypto worker used before it got its keys');
  return { codec, idKey };
}

/** Ciphertext pieces are copied into the slot and dropped: freed now, not at the next collection. */
const freeNow1 = (piece: Uint8Array): void => freeNow([piece]);

function slotView(slot: number, length: number): Uint8Array {
  if (setup?.slots === undefined) throw new Error('this worker has no chunk slots');
  const start = setup.slotBase + slot * setup.slotBytes;
  if (length > setup.slotBytes || slot < 0 || start + setup.slotBytes > setup.slots.byteLength) throw new Error('bad slot');
  return new Uint8Array(setup.slots, start, length);
}

function handle(request: Request): { reply: Reply; transfer: ArrayBuffer[] } {
  switch (request.op) {
    case 'hash': {
      // The stream's SHA-256 (requests arrive in stream order) and the chunk's keyed id, in one pass
      // over the slot while it is in this core's cache.
      const view = slotView(request.slot, request.length);
      let s = streams.get(request.stream);
      if (s === undefined) streams.set(request.stream, (s = { hash: createHash('sha256'), bytes: 0 }));
      s.hash.update(view);
      s.bytes += view.length;
      const id = Blake3Hasher.newKeyed(keyed().idKey).update(view).digestBuffer();
      return { reply: { op: 'hash', id: new Uint8Array(id) }, transfer: [] };
    }
    case 'digest': {
      const s = streams.get(request.stream) ?? { hash: createHash('sha256'), bytes: 0 };
      streams.delete(request.stream);
      return { reply: { op: 'digest', sha256: s.hash.digest('hex'), bytes: s.bytes }, transfer: [] };
    }
    case 'seal': {
      const data = request.bytes ?? slotView(request.slot, request.length);
      const { parts, compressed } = keyed().codec.seal(request.kind, request.id, data, request.level);
      const owned = parts.map(ownBuffer);
      return { reply: { op: 'seal', parts: owned, compressed }, transfer: owned.map((p) => p.buffer as ArrayBuffer) };
    }
    case 'sealSlot': {
      const area = slotView(request.slot, setup?.slotBytes ?? 0);
      const { length, compressed } = keyed().codec.sealTo(request.kind, request.id, area.subarray(0, request.length), area, request.level, freeNow1);
      return { reply: { op: 'sealSlot', length, compressed }, transfer: [] };
    }
    case 'readFiles': {
      const files = readFiles(request.batch, request.paths, request.sizes, request.maxBytes, keyed().idKey);
      return { reply: { op: 'readFiles', files }, transfer: [] };
    }
    case 'sealFiles': {
      const { envelopes, lengths } = sealFiles(request.batch, request.indices, request.kind, request.level, keyed().codec, freeNow1);
      return { reply: { op: 'sealFiles', envelopes, lengths }, transfer: [envelopes.buffer as ArrayBuffer] };
    }
    case 'open': {
      const data = keyed().codec.open(request.kind, request.id, request.envelope, request.rawLength, { object: request.object });
      const owned = ownBuffer(data);
      return { reply: { op: 'open', data: owned }, transfer: isTransferable(owned) ? [owned.buffer as ArrayBuffer] : [] };
    }
  }
}

const port = parentPort;
if (port === null) throw new Error('crypto-worker must run in a worker thread');
port.on('message', (message: Envelope | SetupMessage) => {
  if ('setup' in message) {
    setup = message.setup;
    codec = new BlobCodec(setup.keys.dataKey, setup.keys.idKey, setup.keys.repoId);
    idKey = Buffer.from(setup.keys.idKey);
    return;
  }
  let response: Response;
  let transfer: ArrayBuffer[] = [];
  try {
    const out = handle(message.request);
    response = { seq: message.seq, ok: true, reply: out.reply };
    transfer = dedupe(out.transfer);
  } catch (err) {
    const e = err as Error;
    response = {
      seq: message.seq,
      ok: false,
      error: {
        name: e.name,
        code: err instanceof SluiceError ? err.code : 'E_WORKER',
        detail: err instanceof SluiceError ? err.detail : e.message,
        ...(err instanceof SluiceError && err.where.object !== undefined ? { object: err.where.object } : {}),
      },
    };
  }
  port.postMessage(response, transfer);
});

function dedupe(buffers: ArrayBuffer[]): ArrayBuffer[] {
  return [...new Set(buffers)];
}
