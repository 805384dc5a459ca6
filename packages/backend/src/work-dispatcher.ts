import { DurableTaskError, type LogFields, type Logger } from "@durabletask/api";

/** What a {@link WorkDispatcher} does with its items. */
export interface WorkSource<T> {
  /** Leases up to `maxCount` items; `[]` when there is nothing to do. */
  fetch(maxCount: number): Promise<T[]>;
  /** Processes one item to completion (including committing its result). */
  process(item: T, signal: AbortSignal): Promise<void>;
  /** Called when `process` threw: give the item back. Must not throw. */
  abandon(item: T, error: unknown): Promise<void>;
  /** When the item's lease runs out (epoch ms); leases are renewed at half their remaining time. */
  leaseExpiresAtMs?(item: T): number;
  /** Extends the item's lease and returns the new expiry; throws when the lease is lost. */
  renew?(item: T): Promise<number>;
  /** A short description of an item for logs. */
  describe(item: T): string;
  /** Structured log fields of an item (instance id, task id, work item kind). */
  logFields?(item: T): LogFields;
  /** How many more items can be processed now besides the dispatcher's own limit (default: no limit). */
  capacity?(): number;
}

/** Options of {@link WorkDispatcher}. */
export interface WorkDispatcherOptions {
  readonly name: string;
  readonly logger: Logger;
  /** Items processed at once; ≥ 1. */
  readonly maxConcurrent: number;
  /** Longest wait between polls when idle (polling only finds other processes' work). */
  readonly maxPollIntervalMs: number;
}

const minPollIntervalMs = 50;

/** Most future wake-up times remembered; later ones are found by polling. */
const maxWakeTimes = 100_000;

/**
 * The times work becomes visible in the future (timers, delayed retries), earliest first: a
 * binary min-heap, so many timers due at different moments each wake the loop when due instead
 * of only the earliest one (the rest waited for the next poll, with back-off).
 */
class WakeTimes {
  readonly #heap: number[] = [];

  get earliest(): number {
    return this.#heap[0] ?? Number.POSITIVE_INFINITY;
  }

  add(atMs: number): void {
    const heap = this.#heap;
    if (heap.length >= maxWakeTimes && atMs >= this.earliest) return;
    heap.push(atMs);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as number) <= atMs) break;
      heap[i] = heap[parent] as number;
      i = parent;
    }
    heap[i] = atMs;
  }

  /** Forgets every time up to `nowMs` (that work is visible now). */
  dropUntil(nowMs: number): void {
    while (this.earliest <= nowMs) this.#pop();
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop() as number;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && (heap[right] as number) < (heap[left] as number) ? right : left;
      if ((heap[child] as number) >= last) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    heap[i] = last;
  }
}

/**
 * Runs a fetch → process loop with bounded concurrency. Work created in this process is announced
 * through {@link WorkDispatcher.notify} and fetched at once; work that becomes visible later (timers)
 * wakes the loop at its time; work from other processes is found by polling with back-off up to
 * `maxPollIntervalMs`. `stop()` stops fetching and waits for in-flight items.
 */
export class WorkDispatcher<T> {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private pending = false;
  /** The loop stopped fetching because `capacity()` said 0. */
  private starved = false;
  private readonly wakeTimes = new WakeTimes();
  private pollIntervalMs = minPollIntervalMs;
  /** Slots the fetch in progress may fill. */
  private fetching = 0;

  constructor(
    private readonly source: WorkSource<T>,
    private readonly options: WorkDispatcherOptions,
  ) {}

  /** Starts the loop. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.pending = true;
    this.loop = this.run();
  }

  /**
   * Work becomes visible at `visibleAtMs` (default now). Earlier-than-planned wake-ups are cheap;
   * a notification for work that is already visible triggers a fetch as soon as a slot is free.
   */
  notify(visibleAtMs: number = Date.now()): void {
    if (visibleAtMs <= Date.now()) {
      this.pending = true;
      this.wake?.();
    } else {
      const earliest = this.wakeTimes.earliest;
      this.wakeTimes.add(visibleAtMs);
      if (visibleAtMs < earliest) this.wake?.();
    }
  }

  /**
   * The source's `capacity()` went up. Fetches again only if the loop had stopped for want of
   * capacity: after a fetch that took all visible work, more capacity finds nothing new (in the
   * sidecar every finished work item announces capacity: 7 empty lock transactions per W1
   * orchestration).
   */
  notifyCapacity(): void {
    if (!this.starved) return;
    this.pending = true;
    this.wake?.();
  }

  /**
   * Runs `work` in one of this dispatcher's slots now, if one is free (counting a fetch in
   * progress) and the source has capacity; `undefined` otherwise, or once stopping. The work
   * counts against `maxConcurrent` until it settles, and `stop()` waits for it. Used to run
   * work that arrives from elsewhere (an episode that consumes an activity's result).
   */
  tryRunInSlot<R>(work: () => Promise<R>): Promise<R> | undefined {
    if (!this.running) return undefined;
    if (this.inFlight.size + this.fetching >= this.options.maxConcurrent) return undefined;
    if ((this.source.capacity?.() ?? 1) < 1) return undefined;
    const result = work();
    const settled = (): void => {
      this.inFlight.delete(task);
    };
    const task: Promise<void> = result.then(settled, settled);
    this.inFlight.add(task);
    return result;
  }

  /** Number of items being processed now. */
  get activeCount(): number {
    return this.inFlight.size;
  }

  /**
   * Stops fetching and waits for in-flight items to finish. Items still running after
   * `abortAfterMs` (default: never) have their `AbortSignal` fired, then are awaited too.
   * Idempotent.
   */
  async stop(options: { abortAfterMs?: number } = {}): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    const timer =
      options.abortAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            const reason = new DurableTaskError("Aborted", `${this.options.name} stopping`);
            for (const c of this.controllers) c.abort(reason);
          }, options.abortAfterMs);
    try {
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(): Promise<void> {
    let nextPollAtMs = 0;
    while (this.running) {
      const slots = this.options.maxConcurrent - this.inFlight.size;
      if (slots <= 0) {
        await Promise.race(this.inFlight);
        continue;
      }
      const free = Math.min(slots, this.source.capacity?.() ?? slots);
      if (free <= 0) {
        // Nothing can run the work now; notifyCapacity() is called when capacity returns.
        this.starved = true;
        await this.sleep(this.options.maxPollIntervalMs);
        continue;
      }
      if (this.starved) {
        // Work may have been announced while nothing could take it.
        this.starved = false;
        this.pending = true;
      }
      const now = Date.now();
      const wakeAtMs = this.wakeTimes.earliest;
      if (!this.pending && now < nextPollAtMs && now < wakeAtMs) {
        await this.sleep(Math.min(nextPollAtMs, wakeAtMs) - now);
        continue;
      }
      this.wakeTimes.dropUntil(now);
      this.pending = false;
      this.fetching = free;
      const items = await this.fetch(free).finally(() => {
        this.fetching = 0;
      });
      if (!this.running) {
        await Promise.all(
          items.map((item) =>
            this.source.abandon(item, new DurableTaskError("Aborted", "worker stopping")),
          ),
        );
        break;
      }
      for (const item of items) this.dispatch(item);
      if (items.length === free) {
        // A full batch means there is probably more; fetch again without waiting.
        this.pending = true;
        this.pollIntervalMs = minPollIntervalMs;
      } else if (items.length > 0) {
        // A partial batch took everything visible. More work from this process is announced
        // through notify(); only other processes' work needs the next poll.
        nextPollAtMs = Date.now() + minPollIntervalMs;
        this.pollIntervalMs = minPollIntervalMs * 2;
      } else {
        nextPollAtMs = Date.now() + this.pollIntervalMs;
        this.pollIntervalMs = Math.min(this.pollIntervalMs * 2, this.options.maxPollIntervalMs);
      }
    }
  }

  private async fetch(maxCount: number): Promise<T[]> {
    try {
      return await this.source.fetch(maxCount);
    } catch (error) {
      this.options.logger.error(`${this.options.name}: failed to fetch work items`, { error });
      this.pollIntervalMs = this.options.maxPollIntervalMs;
      return [];
    }
  }

  /** Waits until notified or for `ms`, whichever is first. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      this.wake = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    }).then(() => {
      this.wake = undefined;
    });
  }

  private dispatch(item: T): void {
    const controller = new AbortController();
    this.controllers.add(controller);
    const stopRenewal = this.startRenewal(item, controller);
    const task = this.processOne(item, controller.signal).finally(() => {
      stopRenewal();
      this.controllers.delete(controller);
      this.inFlight.delete(task);
    });
    this.inFlight.add(task);
  }

  private async processOne(item: T, signal: AbortSignal): Promise<void> {
    try {
      await this.source.process(item, signal);
    } catch (error) {
      // A lost lease: nothing of this attempt was applied and there is nothing to give back;
      // the worker that holds the lease now finishes the item.
      if (DurableTaskError.is(signal.reason, "WorkItemLockLost")) return; // renewal logged it
      const what = this.source.describe(item);
      const fields = this.source.logFields?.(item);
      if (DurableTaskError.is(error, "WorkItemLockLost")) {
        this.options.logger.warn(
          `${this.options.name}: lost the lease of ${what}; its result was not applied`,
          { ...fields, error },
        );
        return;
      }
      this.options.logger.warn(`${this.options.name}: failed to process ${what}`, {
        ...fields,
        error,
      });
      await this.source.abandon(item, error);
    }
  }

  /** Renews the item's lease at half its remaining time until processing ends. */
  private startRenewal(item: T, controller: AbortController): () => void {
    const { renew, leaseExpiresAtMs } = this.source;
    if (renew === undefined || leaseExpiresAtMs === undefined) return () => {};
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const schedule = (expiresAtMs: number): void => {
      if (ended) return;
      const delayMs = Math.max(50, (expiresAtMs - Date.now()) / 2);
      timer = setTimeout(() => {
        renew.call(this.source, item).then(schedule, (error: unknown) => {
          // Processing ended while the renewal was under way: its commit removed the lease.
          if (ended) return;
          const what = this.source.describe(item);
          this.options.logger.warn(
            `${this.options.name}: lost the lease of ${what}; aborting it, its result will not be applied`,
            { ...this.source.logFields?.(item), error },
          );
          // A lost lease stays typed; any other renewal failure aborts the attempt as such.
          controller.abort(
            DurableTaskError.is(error, "WorkItemLockLost")
              ? error
              : new DurableTaskError("Aborted", "lease renewal failed", { cause: error }),
          );
        });
      }, delayMs);
      timer.unref();
    };
    schedule(leaseExpiresAtMs.call(this.source, item));
    return () => {
      ended = true;
      clearTimeout(timer);
    };
  }
}
