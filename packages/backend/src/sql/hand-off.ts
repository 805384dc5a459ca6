/** A work item with the lease it was handed off under. */
export interface Leased {
  readonly lockExpiresAtMs: number;
}

/** Longest time queued hand-offs keep a dispatcher from looking at storage. */
const storageLookMs = 50;

interface Queued<T> {
  readonly item: T;
  readonly queuedAtMs: number;
}

/**
 * Work this process leased in the same transaction that made it ready (an activity task its
 * episode just scheduled, an orchestration its activity result just woke up), held until this
 * process's dispatcher asks for work, so the dispatcher gets it without a lock transaction of
 * its own. The leases are real: every write of the work is lease-guarded as usual, and a lease
 * that runs out while queued is simply not handed out (whoever locks it next does the work).
 *
 * Only as much is handed off as the dispatcher left unfilled when it last found nothing in
 * storage (it is waiting for exactly that much work), so another process is never kept from
 * work this one would not start at once, and a backlog in storage is taken by batched lock
 * steps. Queued items do not keep the dispatcher from storage for long: once `storageLookMs`
 * have passed since its last look, the call after the next one looks there too (the next one is
 * not delayed: the caller asks the dispatcher to come back at once). Items nobody takes within
 * `maxQueuedMs` (the dispatcher stopped or lost capacity) are given back through `giveBack`, and
 * no more is handed off until the dispatcher asks again.
 */
export class HandOffs<T extends Leased> {
  readonly #maxQueuedMs: number;
  readonly #now: () => number;
  readonly #giveBack: (items: T[]) => void;
  readonly #askAgain: () => void;
  #queue: Queued<T>[] = [];
  /** Slots the dispatcher left unfilled at its last lock call, minus hand-offs since. */
  #idle = 0;
  /**
   * Slots its last look at storage left unfilled when it found some work (a partial batch):
   * handed off only while the process is quiet (see {@link reserve}).
   */
  #idleAfterPartial = 0;
  /** Room reserved by hand-offs whose transaction has not finished yet. */
  #reserved = 0;
  #sweep: NodeJS.Timeout | undefined;
  #lastStorageLookMs = Number.NEGATIVE_INFINITY;
  #lookDue = false;

  /**
   * `giveBack` returns items nobody took to storage; `askAgain` makes the dispatcher ask for
   * work again at once (when its next call must look at storage).
   */
  constructor(
    maxQueuedMs: number,
    now: () => number,
    giveBack: (items: T[]) => void,
    askAgain: () => void,
  ) {
    this.#maxQueuedMs = maxQueuedMs;
    this.#now = now;
    this.#askAgain = askAgain;
    this.#giveBack = giveBack;
  }

  /**
   * Reserves room for up to `count` hand-offs; returns how many were reserved. When `quiet` (the
   * caller runs no work of this kind), the slots a partial batch left unfilled count too: a
   * process doing one thing at a time then starts each new piece of work without a lock step,
   * while under load partial batches leave the work to batched lock steps.
   */
  reserve(count: number, quiet = false): number {
    const fromIdle = Math.max(0, Math.min(count, this.#idle));
    this.#idle -= fromIdle;
    const fromPartial = quiet ? Math.max(0, Math.min(count - fromIdle, this.#idleAfterPartial)) : 0;
    this.#idleAfterPartial -= fromPartial;
    this.#reserved += fromIdle + fromPartial;
    return fromIdle + fromPartial;
  }

  /** Queues `items` (leased under a reservation of `reserved`), returning unused room. */
  add(items: readonly T[], reserved: number, nowMs: number): void {
    this.#reserved -= reserved;
    this.#idle += Math.max(0, reserved - items.length);
    for (const item of items) this.#queue.push({ item, queuedAtMs: nowMs });
    if (this.#queue.length > 0 && this.#sweep === undefined) {
      this.#sweep = setTimeout(() => this.#expire(), this.#maxQueuedMs);
      this.#sweep.unref();
    }
  }

  /**
   * A commit made more work ready than it handed off (no room for all of it): the next call
   * looks at storage too, instead of after `storageLookMs`.
   */
  leftInStorage(): void {
    this.#lookDue = true;
  }

  /**
   * Takes `item` out of the queue if nobody took it yet (its lease was never taken), returning
   * its slot to the idle ones; false when it was already handed out.
   */
  withdraw(item: T): boolean {
    const at = this.#queue.findIndex((queued) => queued.item === item);
    if (at < 0) return false;
    this.#queue.splice(at, 1);
    this.#idle++;
    return true;
  }

  /** Returns room reserved for a hand-off that did not happen. */
  cancel(reserved: number): void {
    this.#reserved -= reserved;
    this.#idle += reserved;
  }

  #take(maxCount: number, nowMs: number): { items: T[]; expired: T[] } {
    const items: T[] = [];
    const expired: T[] = [];
    while (items.length < maxCount && this.#queue.length > 0) {
      const { item } = this.#queue.shift() as Queued<T>;
      if (item.lockExpiresAtMs > nowMs) items.push(item);
      else expired.push(item);
    }
    return { items, expired };
  }

  /**
   * A lock call for up to `maxCount` items: the queued items whose lease still runs (oldest
   * first; `expired` lists those whose lease ran out, not handed out), and whether it must look
   * at storage too: when nothing was queued, or a look is due. When `storageLookMs` have passed
   * since the last look, the queued items are still returned alone (not delayed), and the
   * dispatcher is asked to come back at once: that call looks.
   */
  next(maxCount: number, nowMs: number): { items: T[]; expired: T[]; lookAtStorage: boolean } {
    const { items, expired } = this.#take(maxCount, nowMs);
    if (items.length === 0 || this.#lookDue) return { items, expired, lookAtStorage: true };
    this.#idle = Math.max(0, maxCount - items.length - this.#queue.length - this.#reserved);
    if (nowMs - this.#lastStorageLookMs >= storageLookMs) {
      this.#lookDue = true;
      this.#askAgain();
    }
    return { items, expired, lookAtStorage: false };
  }

  /**
   * A lock call for `maxCount` got `handed` queued items and `locked` from storage: the
   * dispatcher is idle for the rest only if storage had nothing.
   */
  observeStorage(maxCount: number, handed: number, locked: number, nowMs: number): void {
    this.#lastStorageLookMs = nowMs;
    this.#lookDue = false;
    const unfilled = Math.max(0, maxCount - handed - this.#queue.length - this.#reserved);
    this.#idle = locked > 0 ? 0 : unfilled;
    this.#idleAfterPartial = locked > 0 ? Math.max(0, unfilled - locked) : 0;
  }

  /** Empties the queue (the backend stops): the caller gives the items back. */
  drain(): T[] {
    clearTimeout(this.#sweep);
    this.#sweep = undefined;
    this.#idle = 0;
    this.#idleAfterPartial = 0;
    const items = this.#queue.map((q) => q.item);
    this.#queue = [];
    return items;
  }

  #expire(): void {
    this.#sweep = undefined;
    const cutoff = this.#now() - this.#maxQueuedMs;
    const stale = this.#queue.filter((q) => q.queuedAtMs <= cutoff).map((q) => q.item);
    if (stale.length > 0) {
      this.#queue = this.#queue.filter((q) => q.queuedAtMs > cutoff);
      // Nobody is taking work: stop handing off until the dispatcher asks again.
      this.#idle = 0;
      this.#idleAfterPartial = 0;
      this.#giveBack(stale);
    }
    if (this.#queue.length > 0) {
      this.#sweep = setTimeout(() => this.#expire(), this.#maxQueuedMs);
      this.#sweep.unref();
    }
  }
}
