/**
 * A tar stream as entries whose content streams, pulled: input is fed to node-tar's parser only when
 * the consumer asks for the next entry or for bytes the current file does not have yet, so a slow
 * consumer stops the producer and memory stays at one input read. Entries must be consumed in order
 * (a tar is sequential): asking for the next entry drains what is left of the current file.
 *
 * Regular files, directories and symlinks become entries; hard links, devices and FIFOs are refused
 * (a physical backup holds none), as is a stream that ends inside an entry or without the end blocks.
 */
import { Parser, type ReadEntry } from 'tar';
import { type Entry, toSafePath } from '../../entry.js';
import { FormatError } from '../../errors.js';

interface Current {
  chunks: Uint8Array[];
  done: boolean;
}

export async function* readTarEntries(input: AsyncIterable<Uint8Array>, label = 'tar stream'): AsyncGenerator<Entry> {
  const source = input[Symbol.asyncIterator]();
  const parser = new Parser({ strict: true });
  const announced: Entry[] = [];
  /** The file last handed out, and the states of files announced but not handed out yet. */
  let current: Current | undefined;
  const pending: Current[] = [];
  let failure: Error | undefined;
  let inputDone = false;
  let parserEnded = false;
  let offset = 0;

  parser.on('entry', (e: ReadEntry) => {
    try {
      const name = e.path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
      if ((name === '' || name === '.') && e.type === 'Directory') {
        e.resume(); // the archive's own top directory (`tar -C DIR .`)
        return;
      }
      const path = toSafePath(name);
      const meta = { path, mode: (e.mode ?? 0o600) & 0o7777, mtimeMs: e.mtime?.getTime() ?? 0, ...(e.uid === undefined ? {} : { uid: e.uid }), ...(e.gid === undefined ? {} : { gid: e.gid }) };
      if (e.type === 'File' || e.type === 'OldFile' || e.type === 'ContiguousFile') {
        const state: Current = { chunks: [], done: false };
        e.on('data', (chunk: Buffer) => state.chunks.push(chunk));
        e.on('end', () => {
          state.done = true;
        });
        pending.push(state);
        announced.push({ ...meta, kind: 'file', size: e.size ?? 0, content: content(state) });
        return;
      }
      e.resume();
      if (e.type === 'Directory') announced.push({ ...meta, kind: 'dir' });
      else if (e.type === 'SymbolicLink') announced.push({ ...meta, kind: 'symlink', target: e.linkpath ?? '' });
      else failure ??= new FormatError('E_TAR_TYPE', `a ${e.type} entry cannot be stored`, { path: e.path });
    } catch (err) {
      e.resume();
      failure ??= err as Error;
    }
  });
  parser.on('warn', (_code: string, message: string | Error) => {
    failure ??= new FormatError('E_TAR', typeof message === 'string' ? message : message.message, { path: label, offset });
  });
  parser.on('error', (err: Error) => {
    failure ??= new FormatError('E_TAR', err.message, { path: label, offset });
  });
  parser.on('end', () => {
    parserEnded = true;
  });

  /** Feeds one read of input to the parser. */
  async function feed(): Promise<void> {
    if (failure !== undefined) throw failure;
    if (inputDone) {
      if (!parserEnded) await new Promise<void>((resolve) => parser.end(resolve));
      if (failure !== undefined) throw failure;
      return;
    }
    const next = await source.next();
    if (next.done === true) inputDone = true;
    else {
      parser.write(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      offset += next.value.length;
    }
    if (failure !== undefined) throw failure;
  }

  async function* content(state: Current): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = state.chunks.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (state.done) return;
      if (inputDone && parserEnded) throw new FormatError('E_TAR_TRUNCATED', 'the stream ends inside a file', { path: label, offset });
      await feed();
    }
  }

  try {
    for (;;) {
      // the previous file must be read to its end before the parser may go on
      if (current !== undefined && !current.done) {
        await feed();
        current.chunks = [];
        continue;
      }
      const next = announced.shift();
      if (next !== undefined) {
        if (next.kind === 'file') current = pending.shift();
        yield next;
        continue;
      }
      if (inputDone && parserEnded) break;
      await feed();
    }
    if (failure !== undefined) throw failure;
  } finally {
    await source.return?.(undefined);
  }
}
