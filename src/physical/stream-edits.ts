/**
 * Carries mariabackup's remove and rename chunks (tables dropped or renamed by other sessions during the
 * backup) from the demultiplexer to the xbstream writer of `backup --mariadb --stream`, under the names
 * sluice's pipeline gave the files: `db/t.MAD` was written as `db/t.MAD.zst`, so its rename to `db/u.MAD`
 * becomes `db/t.MAD.zst` → `db/u.MAD.zst` (the content keeps its layers, hence its suffix).
 *
 * An edit of a file this stream never sent (mariabackup names files created and dropped between two of
 * its copies) is dropped: `mbstream -x` would find nothing to remove or rename.
 */
import type { XbstreamFileEdit } from '../container/xbstream/writer.js';
import type { XbstreamEdit } from '../source/xbstream-demux.js';

export class StreamEdits {
  readonly #edits: XbstreamEdit[] = [];
  #next = 0;
  /** Member name → the name it was written under, for the files sent so far (as the edits left them). */
  readonly #written = new Map<string, string>();
  #dropped = 0;

  /** The demultiplexer's `onEdit`. */
  readonly add = (edit: XbstreamEdit): void => {
    this.#edits.push(edit);
  };

  /** A member file going out as `written` (its name after compression and encryption). */
  sent(member: string, written: string): void {
    this.#written.set(member, written);
  }

  /** The writer's `edits`: what came after the first `files` members, by the names they were written under. */
  readonly after = (files: number): XbstreamFileEdit[] => {
    const due: XbstreamFileEdit[] = [];
    for (; this.#next < this.#edits.length && (this.#edits[this.#next] as XbstreamEdit).after <= files; this.#next++) {
      const edit = this.#edits[this.#next] as XbstreamEdit;
      const from = this.#written.get(edit.path);
      if (from === undefined) {
        this.#dropped += 1;
        continue;
      }
      this.#written.delete(edit.path);
      if (edit.type === 'remove') {
        due.push({ type: 'remove', path: from });
        continue;
      }
      const suffix = from.startsWith(edit.path) ? from.slice(edit.path.length) : '';
      const to = `${edit.to}${suffix}`;
      this.#written.set(edit.to, to);
      due.push({ type: 'rename', path: from, to });
    }
    return due;
  };

  /** Edits of files the stream never sent, left out. */
  get dropped(): number {
    return this.#dropped;
  }
}
