/**
 * A wrapper that injects faults into another store, for crash and corruption tests: fail the Nth put
 * (before or after the object becomes visible), cut reads short, or fail reads of chosen objects.
 */
import { SluiceError } from '../../errors.js';
import type { ByteRange, ObjectInfo, ObjectStore } from './object-store.js';

export interface FaultPlan {
  /** 1-based number of the put that fails; later puts fail too when `sticky` (a dead process). */
  failPut?: number;
  /** Let the failing put reach the inner store first (the process died after the write, before its answer). */
  failAfterWrite?: boolean;
  sticky?: boolean;
  /** Reads of objects whose name passes this test return fewer bytes than asked. */
  shortRead?: (name: string) => boolean;
  /** Reads of objects whose name passes this test fail. */
  failGet?: (name: string) => boolean;
}

export class InjectedFault extends SluiceError {
  constructor(what: string, name: string) {
    super('E_INJECTED_FAULT', `injected fault: ${what}`, { object: name });
  }
}

export class FaultyStore implements ObjectStore {
  readonly location: string;
  #puts = 0;
  #dead = false;

  constructor(
    readonly inner: ObjectStore,
    public plan: FaultPlan = {},
  ) {
    this.location = `faulty ${inner.location}`;
  }

  get puts(): number {
    return this.#puts;
  }

  async put(name: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    this.#puts += 1;
    const failing = this.#dead || this.#puts === this.plan.failPut;
    if (failing) {
      if (this.plan.sticky === true) this.#dead = true;
      if (this.plan.failAfterWrite === true && this.#puts === this.plan.failPut) await this.inner.put(name, data);
      throw new InjectedFault(`put number ${this.#puts} fails`, name);
    }
    await this.inner.put(name, data);
  }

  async get(name: string, range?: ByteRange): Promise<Uint8Array> {
    if (this.plan.failGet?.(name) === true) throw new InjectedFault('read fails', name);
    const bytes = await this.inner.get(name, range);
    if (this.plan.shortRead?.(name) === true && bytes.length > 0) return bytes.subarray(0, bytes.length - 1);
    return bytes;
  }

  stat(name: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(name);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  async delete(name: string): Promise<void> {
    if (this.#dead) throw new InjectedFault('delete after a sticky failure', name);
    await this.inner.delete(name);
  }
}
