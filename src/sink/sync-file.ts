/**
 * An open output file written with synchronous system calls on the calling thread, behind the same
 * promise-returning surface as a FileHandle. For a single writer this is what mbstream does: every
 * asynchronous fs call is a round trip through libuv's thread pool, and for thousands of small files those
 * hand-offs cost more CPU than the writes themselves (figures: docs/architecture.md, decision log).
 */
import { closeSync, fchmodSync, fchownSync, fstatSync, ftruncateSync, openSync, writeSync, writevSync } from 'node:fs';

/** What an output file needs of an open file; node's FileHandle has it too. */
export interface WritableFile {
  write(data: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  writev(pieces: Uint8Array[], position: number): Promise<{ bytesWritten: number }>;
  truncate(size: number): Promise<void>;
  chmod(mode: number): Promise<void>;
  chown(uid: number, gid: number): Promise<void>;
  close(): Promise<void>;
  /** With `bigint: true`, as node's FileHandle gives it. */
  stat(options: { bigint: true }): Promise<FileIdentity>;
}

/** What tells one file from another that took its name. */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  ctimeNs: bigint;
  size: bigint;
}

export class SyncFile implements WritableFile {
  private constructor(readonly fd: number) {}

  static open(path: string, flags: number, mode: number): SyncFile {
    return new SyncFile(openSync(path, flags, mode));
  }

  async write(data: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return { bytesWritten: writeSync(this.fd, data, offset, length, position) };
  }

  async writev(pieces: Uint8Array[], position: number): Promise<{ bytesWritten: number }> {
    return { bytesWritten: writevSync(this.fd, pieces, position) };
  }

  async truncate(size: number): Promise<void> {
    ftruncateSync(this.fd, size);
  }

  async chmod(mode: number): Promise<void> {
    fchmodSync(this.fd, mode);
  }

  async chown(uid: number, gid: number): Promise<void> {
    fchownSync(this.fd, uid, gid);
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }

  async stat(options: { bigint: true }): Promise<FileIdentity> {
    return fstatSync(this.fd, options);
  }
}
