import type { HistoryEvent } from "@durabletask/api/proto";
import type { SqlValue } from "./driver.js";
import { decodeEvent, encodeEvent } from "./rows.js";

/**
 * Lock steps read histories shorter than this whole (cheap, and it keeps their list of known
 * instances short); the cache keeps them only for {@link HistoryCache.take}.
 */
export const minCachedHistoryEvents = 64;

/** What the cache knows of one instance's history. */
interface Known {
  /** Owned by the cache while it is here; handed to one work item at a time, then extended. */
  readonly events: HistoryEvent[];
  /**
   * The stored bytes of the last event, to recognize the same history in the database; encoded
   * when a lock step first compares them.
   */
  lastPayload: Uint8Array | undefined;
  /**
   * The commit that stored it left the instance RUNNING and this process has queued no event
   * for it since: {@link HistoryCache.take} may hand it out.
   */
  takeable: boolean;
}

/** History rows of one instance as the lock step read them: `SequenceNumber`, `EventPayload`. */
export interface HistoryRows {
  readonly sequences: number[];
  readonly payloads: SqlValue[];
}

/**
 * What one lock step asks of the cache: `known` (`[instance id, events known]`) for its history
 * read, and `resolve` for the rows that read returned.
 */
export interface HistoryPlan {
  readonly known: [string, number][];
  /**
   * The whole history of `instanceId` from its rows (the rows from the last known event on when
   * the plan listed it, else every row), or `undefined` when the cached prefix no longer matches
   * or is gone: then the caller reads the history whole.
   */
  resolve(instanceId: string, rows: HistoryRows | undefined): HistoryEvent[] | undefined;
}

function lastPayloadOf(entry: Known): Uint8Array {
  entry.lastPayload ??= encodeEvent(entry.events[entry.events.length - 1] as HistoryEvent);
  return entry.lastPayload;
}

/** The execution id of a history (from its `executionStarted` event), if it has one. */
function executionIdOf(events: readonly HistoryEvent[]): string | undefined {
  for (const event of events) {
    if (event.eventType.case === "executionStarted") {
      return event.eventType.value.orchestrationInstance?.executionId;
    }
  }
  return undefined;
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
 *
 * Nothing is copied per episode, so a step costs the same at 30,000 events as at 30: a cached
 * array leaves the cache with the work item that gets it (extended in place with the rows read),
 * and comes back with that item's commit (extended in place with what it appended). An array is
 * only extended while exactly one holder may read it; the item whose commit returned it is done
 * with it (see `OrchestrationWorkItem.history`).
 */
export class HistoryCache {
  readonly #max: number;
  readonly #known = new Map<string, Known>();
  /** Arrays handed to work items by this backend, with their length then. */
  readonly #lent = new WeakMap<readonly HistoryEvent[], number>();

  constructor(max: number) {
    this.#max = max;
  }

  /** The plan of a lock step that may lease any instance. */
  plan(): HistoryPlan {
    const known: [string, number][] = [];
    for (const [id, entry] of this.#known) {
      if (entry.events.length >= minCachedHistoryEvents) known.push([id, entry.events.length]);
    }
    return this.#planOf(known);
  }

  /** The plan of a lock step that may lease only `instanceId`. */
  planFor(instanceId: string): HistoryPlan {
    const length = this.#known.get(instanceId)?.events.length ?? 0;
    return this.#planOf(length >= minCachedHistoryEvents ? [[instanceId, length]] : []);
  }

  /**
   * The cached history of `instanceId` if it is of execution `executionId`, handed out whole
   * (as {@link lend}) to a caller that will commit only under a condition that the database
   * still holds exactly this history; `undefined` when nothing is cached for that execution.
   */
  take(instanceId: string, executionId: string): HistoryEvent[] | undefined {
    const entry = this.#known.get(instanceId);
    if (entry === undefined || !entry.takeable || executionIdOf(entry.events) !== executionId) {
      return undefined;
    }
    this.#known.delete(instanceId);
    return this.lend(entry.events);
  }

  /** Marks `history` as handed out whole to one work item (so its commit may extend it). */
  lend(history: HistoryEvent[]): HistoryEvent[] {
    this.#lent.set(history, history.length);
    return history;
  }

  /**
   * This process queued an event for `instanceId`: its next episode should find it through the
   * inbox, so {@link take} no longer hands out its history (lock steps still use it).
   */
  eventQueued(instanceId: string): void {
    const entry = this.#known.get(instanceId);
    if (entry !== undefined) entry.takeable = false;
  }

  /**
   * Remembers what the database holds after a commit of `history` (a work item's) plus
   * `appended`, `running` when the commit left the instance RUNNING: extends the array in place
   * when this cache lent it and nobody changed it since, else a copy.
   */
  extend(
    instanceId: string,
    history: readonly HistoryEvent[],
    appended: readonly HistoryEvent[],
    running = false,
  ): void {
    this.#known.delete(instanceId);
    const total = history.length + appended.length;
    if (this.#max === 0 || total === 0) return;
    let events: HistoryEvent[];
    if (this.#lent.get(history) === history.length) {
      this.#lent.delete(history);
      events = history as HistoryEvent[];
      for (const event of appended) events.push(event);
    } else {
      events = history.concat(appended);
    }
    this.#remember(instanceId, events, running);
  }

  /**
   * Puts back a work item's history after the item was abandoned (its lease was valid, so the
   * database holds that history): when this cache lent the array and nobody changed it since.
   */
  restore(instanceId: string, history: readonly HistoryEvent[]): void {
    if (this.#lent.get(history) !== history.length) return;
    this.extend(instanceId, history, []);
  }

  /** Forgets the instance (completed, purged, or its commit's outcome is unknown). */
  delete(instanceId: string): void {
    this.#known.delete(instanceId);
  }

  clear(): void {
    this.#known.clear();
  }

  #planOf(known: [string, number][]): HistoryPlan {
    const asked = new Map(known);
    return { known, resolve: (id, rows) => this.#resolve(id, rows, asked.get(id)) };
  }

  #resolve(
    instanceId: string,
    rows: HistoryRows | undefined,
    askedFrom: number | undefined,
  ): HistoryEvent[] | undefined {
    const payloads = rows?.payloads ?? [];
    const entry = this.#known.get(instanceId);
    // Whatever the cache held, this work item now has the lease and the newest history.
    this.#known.delete(instanceId);
    if (askedFrom === undefined) {
      const prefix = entry === undefined ? undefined : this.#sameExecutionPrefix(entry, rows);
      const history = prefix ?? [];
      for (let i = history.length; i < payloads.length; i++) history.push(decodeEvent(payloads[i]));
      return this.lend(history);
    }
    // The rows start at the last event the plan knew: usable only with that same prefix, which
    // a commit or an eviction since the plan may have dropped.
    const last = askedFrom - 1;
    if (
      entry === undefined ||
      entry.events.length !== askedFrom ||
      rows?.sequences[0] !== last ||
      !sameBytes(lastPayloadOf(entry), payloads[0])
    ) {
      return undefined;
    }
    const history = entry.events;
    for (let i = 1; i < payloads.length; i++) history.push(decodeEvent(payloads[i]));
    return this.lend(history);
  }

  // A short history is read whole (not listed in the plan), but its cached events need not be
  // decoded again when they are still the rows' start: the rows hold the same execution (its
  // start row names the cached execution id) at least as far, and the row at the cached last
  // event's position has that event's bytes. Within an execution history is append-only and
  // every commit is lease-guarded, so the cached events are then the rows' first events.
  #sameExecutionPrefix(entry: Known, rows: HistoryRows | undefined): HistoryEvent[] | undefined {
    const cached = entry.events;
    if (rows === undefined || rows.payloads.length < cached.length) return undefined;
    const start = cached.findIndex((e) => e.eventType.case === "executionStarted");
    const executionId = executionIdOf(cached);
    if (start < 0 || executionId === undefined || rows.sequences[start] !== start) return undefined;
    const last = cached.length - 1;
    if (rows.sequences[last] !== last || !sameBytes(lastPayloadOf(entry), rows.payloads[last])) {
      return undefined;
    }
    if (executionIdOf([decodeEvent(rows.payloads[start])]) !== executionId) return undefined;
    return cached;
  }

  #remember(instanceId: string, events: HistoryEvent[], takeable: boolean): void {
    this.#known.set(instanceId, { events, lastPayload: undefined, takeable });
    if (this.#known.size > this.#max) {
      this.#known.delete(this.#known.keys().next().value as string);
    }
  }
}
