import { DurableTaskError, deserializePayload } from "@durabletask/api";
import type { EventRaisedEvent, HistoryEvent } from "@durabletask/api/proto";
import type { CompletableTask, TaskScope } from "./task.js";

interface Raised {
  readonly event: HistoryEvent;
  readonly raised: EventRaisedEvent;
}

interface Waiter {
  readonly name: string;
  readonly task: CompletableTask<unknown>;
}

/**
 * The external events of one execution: events that arrived with nobody waiting, and waiters
 * for events that have not arrived. Names match case-insensitively; both sides pair up first
 * in, first out.
 *
 * @internal
 */
export class ExternalEvents {
  readonly #scope: TaskScope;
  readonly #buffered: Raised[] = [];
  readonly #waiters = new Map<string, Waiter[]>();

  constructor(scope: TaskScope) {
    this.#scope = scope;
  }

  /**
   * A task for the next event `name`. With `timeoutMs` undefined it waits forever; with `0` it
   * is canceled at once unless an event is buffered; otherwise `createTimer(timeoutMs)` is
   * scheduled and its firing cancels the wait (a timer that fires after the event is harmless).
   */
  wait<T>(
    name: string,
    timeoutMs: number | undefined,
    createTimer: (delayMs: number) => CompletableTask<void>,
  ): CompletableTask<T> {
    const task = this.#scope.create<T>();
    const key = keyOf(name);
    const index = this.#buffered.findIndex((b) => keyOf(b.raised.name) === key);
    const buffered = index >= 0 ? this.#buffered.splice(index, 1)[0] : undefined;
    if (buffered !== undefined) {
      settleWithData(task, buffered.raised);
    } else if (timeoutMs === 0) {
      task.reject(canceled(name, timeoutMs));
    } else {
      this.#enqueue(key, { name, task: task as CompletableTask<unknown> }, timeoutMs, createTimer);
    }
    return task;
  }

  /** Hands an `eventRaised` event to the oldest waiter for its name, or buffers it. */
  deliver(event: HistoryEvent, raised: EventRaisedEvent): void {
    const waiter = this.#waiters.get(keyOf(raised.name))?.shift();
    if (waiter === undefined) this.#buffered.push({ event, raised });
    else settleWithData(waiter.task, raised);
  }

  /** The buffered events nobody consumed, in arrival order (for continue-as-new carryover). */
  unconsumed(): HistoryEvent[] {
    return this.#buffered.map((b) => b.event);
  }

  #enqueue(
    key: string,
    waiter: Waiter,
    timeoutMs: number | undefined,
    createTimer: (delayMs: number) => CompletableTask<void>,
  ): void {
    const queue = this.#waiters.get(key) ?? [];
    queue.push(waiter);
    this.#waiters.set(key, queue);
    if (timeoutMs === undefined) return;
    createTimer(timeoutMs).onSettled(() => {
      const index = queue.indexOf(waiter);
      if (index < 0) return;
      queue.splice(index, 1);
      waiter.task.reject(canceled(waiter.name, timeoutMs));
    });
  }
}

function keyOf(name: string): string {
  return name.toLowerCase();
}

function settleWithData<T>(task: CompletableTask<T>, raised: EventRaisedEvent): void {
  try {
    task.resolve(deserializePayload<T>(raised.input, `data of event '${raised.name}'`));
  } catch (err) {
    task.reject(err);
  }
}

function canceled(name: string, timeoutMs: number): DurableTaskError {
  return new DurableTaskError(
    "TaskCanceled",
    `Timed out after ${timeoutMs} ms waiting for external event '${name}'`,
  );
}
