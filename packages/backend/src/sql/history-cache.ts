import type { HistoryEvent } from "@durabletask/api/proto";
import type { SqlValue } from "./driver.js";
import { decodeEvent, encodeEvent } from "./rows.js";

/** Histories shorter than this are read whole: cheap, and they keep the lock step's list short. */
export const minCachedHistoryEvents = 64;

/** What the cache knows of one instance's history. */
interface Known {
  readonly events: readonly HistoryEvent[];
  /** The stored bytes of the last event, to recognize the same history in the database. */
  readonly lastPayload: Uint8Array;
}

/** History rows of one instance as the lock step read them: `SequenceNumber`, `EventPayload`. */
export interface HistoryRows {
  readonly sequences: number[];
  readonly payloads: SqlValue[];
}

function sameBytes(a: Uint8Array, b: SqlValue | undefined): boolean {
  if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The histories of recently committed instances (least recently used dropped first), so the lock
 * step of a warm instance reads only the rows past what is known instead of the whole history.
 *
 * The database stays the authority: the lock step reads from the last known row on, and the
 * cached prefix is used only when that row is still there with the same bytes. History is
 * append-only within an execution and every commit is lease-guarded, so a match means the
 * prefix is unchanged, whoever wrote after it (another process, a worker that took over an
 * expired lease). A purge and re-create or a continue-as-new elsewhere replaces the rows, the
 * check fails, and the history is read whole again.
 */
export class HistoryCache {
  readonly #max: number;
  readonly #known = new Map<string, Known>();

  constructor(max: number) {
    this.#max = max;
  }

  /** `[instance id, known event count]` of every cached instance, for the lock statement. */
  knownCounts(): [string, number][] {
    const out: [string, number][] = [];
    for (const [id, known] of this.#known) out.push([id, known.events.length]);
    return out;
  }

  /** `[[instanceId, known event count]]` when the instance is cached, else `[]`. */
  knownCount(instanceId: string): [string, number][] {
    const known = this.#known.get(instanceId);
    return known === undefined ? [] : [[instanceId, known.events.length]];
  }

  /**
   * The whole history of `instanceId` from the rows the lock step read (rows from the last known
   * event on when the instance is cached, else every row), or `undefined` when the cached prefix
   * no longer matches the database (then the entry is dropped and the caller reads it whole).
   */
  resolve(instanceId: string, rows: HistoryRows | undefined): HistoryEvent[] | undefined {
    const known = this.#known.get(instanceId);
    const payloads = rows?.payloads ?? [];
    if (known === undefined) return payloads.map((p) => decodeEvent(p));
    const last = known.events.length - 1;
    if (rows?.sequences[0] !== last || !sameBytes(known.lastPayload, payloads[0])) {
      this.#known.delete(instanceId);
      return undefined;
    }
    const history = known.events.slice();
    for (let i = 1; i < payloads.length; i++) history.push(decodeEvent(payloads[i]));
    return history;
  }

  /** Remembers `history` as what the database now holds for the instance (after a commit). */
  set(instanceId: string, history: readonly HistoryEvent[], lastPayload?: Uint8Array): void {
    this.#known.delete(instanceId);
    const last = history[history.length - 1];
    if (this.#max === 0 || last === undefined || history.length < minCachedHistoryEvents) return;
    this.#known.set(instanceId, {
      events: history,
      lastPayload: lastPayload ?? encodeEvent(last),
    });
    if (this.#known.size > this.#max) {
      this.#known.delete(this.#known.keys().next().value as string);
    }
  }

  /** Forgets the instance (completed, purged, or its commit's outcome is unknown). */
  delete(instanceId: string): void {
    this.#known.delete(instanceId);
  }

  clear(): void {
    this.#known.clear();
  }
}
