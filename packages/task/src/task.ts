/**
 * A durable unit of work an orchestrator waits for: an activity call, a sub-orchestration, a
 * timer, an external event or a combination of those.
 *
 * A Task is `PromiseLike`: `await task`, `Promise.all` and `Promise.race` work on it. It settles
 * only when the replay engine applies the history event that completes it, so its outcome is
 * the same on every replay. Tasks belong to the {@link OrchestrationContext} that created them.
 */
export interface Task<T> extends PromiseLike<T> {
  /** True once the task succeeded or failed. */
  readonly isComplete: boolean;
  /** True once the task failed (or was canceled). */
  readonly isFailed: boolean;
}

/** How a task settled. @internal */
export type TaskOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

interface Deferred<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * The engine's implementation of {@link Task}. Only the engine settles it.
 *
 * It holds no native promise of its own: a promise is made per `then` call, so a task that fails
 * while nobody awaits it never produces an unhandled rejection.
 *
 * @internal
 */
export class CompletableTask<T> implements Task<T> {
  #outcome: TaskOutcome<T> | undefined;
  #awaited = false;
  #deferreds: Deferred<T>[] = [];
  #listeners: ((outcome: TaskOutcome<T>) => void)[] = [];
  readonly #onSettled: (task: CompletableTask<T>) => void;

  constructor(onSettled: (task: CompletableTask<T>) => void = () => {}) {
    this.#onSettled = onSettled;
  }

  get isComplete(): boolean {
    return this.#outcome !== undefined;
  }

  get isFailed(): boolean {
    return this.#outcome?.ok === false;
  }

  /** True once user code called `then` (directly, via `await` or via `Promise.*`). */
  get isAwaited(): boolean {
    return this.#awaited;
  }

  // biome-ignore lint/suspicious/noThenProperty: a Task is deliberately a thenable
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#awaited = true;
    const promise = new Promise<T>((resolve, reject) => {
      if (this.#outcome === undefined) this.#deferreds.push({ resolve, reject });
      else settleDeferred({ resolve, reject }, this.#outcome);
    });
    return promise.then(onFulfilled, onRejected);
  }

  /** Calls `listener` synchronously when the task settles (at once if it already has). */
  onSettled(listener: (outcome: TaskOutcome<T>) => void): void {
    if (this.#outcome === undefined) this.#listeners.push(listener);
    else listener(this.#outcome);
  }

  /** Completes the task with `value`; ignored if it already settled. */
  resolve(value: T): void {
    this.#settle({ ok: true, value });
  }

  /** Fails the task with `error`; ignored if it already settled. */
  reject(error: unknown): void {
    this.#settle({ ok: false, error });
  }

  #settle(outcome: TaskOutcome<T>): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    const deferreds = this.#deferreds;
    const listeners = this.#listeners;
    this.#deferreds = [];
    this.#listeners = [];
    this.#onSettled(this);
    for (const listener of listeners) listener(outcome);
    for (const deferred of deferreds) settleDeferred(deferred, outcome);
  }
}

function settleDeferred<T>(deferred: Deferred<T>, outcome: TaskOutcome<T>): void {
  if (outcome.ok) deferred.resolve(outcome.value);
  else deferred.reject(outcome.error);
}

/**
 * The tasks of one orchestration execution: it knows which are still open, whether any of them
 * is awaited, and whether any settled since the last {@link TaskScope.takeSettled}.
 *
 * @internal
 */
export class TaskScope {
  readonly #open = new Set<CompletableTask<unknown>>();
  #settled = false;

  /** A new open task of this scope. */
  create<T>(): CompletableTask<T> {
    const task = new CompletableTask<T>((t) => this.#close(t));
    this.#open.add(task as CompletableTask<unknown>);
    return task;
  }

  /** Whether user code awaits at least one task that is still open. */
  hasAwaitedOpenTask(): boolean {
    for (const task of this.#open) if (task.isAwaited) return true;
    return false;
  }

  /** Whether any task settled since the previous call; resets the flag. */
  takeSettled(): boolean {
    const settled = this.#settled;
    this.#settled = false;
    return settled;
  }

  #close<T>(task: CompletableTask<T>): void {
    this.#open.delete(task as CompletableTask<unknown>);
    this.#settled = true;
  }
}
