import { invalidArgument } from "@durabletask/api";
import { CompletableTask, type Task, type TaskScope } from "./task.js";

/** The results of the tasks of a {@link whenAll}, in the order of the tasks. */
export type WhenAllResult<T extends readonly Task<unknown>[]> = {
  -readonly [K in keyof T]: Awaited<T[K]>;
};

/**
 * A task that completes when every task in `tasks` completed, with their results in order, or
 * fails as soon as one of them fails (the first failure in history order). An empty list
 * completes at once.
 *
 * @internal
 */
export function whenAll<T extends readonly Task<unknown>[]>(
  scope: TaskScope,
  tasks: T,
): CompletableTask<WhenAllResult<T>> {
  const members = ownTasks(tasks);
  const all = scope.create<WhenAllResult<T>>();
  const results: unknown[] = new Array(members.length);
  let remaining = members.length;
  if (remaining === 0) all.resolve(results as WhenAllResult<T>);
  members.forEach((task, index) => {
    task.onSettled((outcome) => {
      if (!outcome.ok) return all.reject(outcome.error);
      results[index] = outcome.value;
      remaining -= 1;
      if (remaining === 0) all.resolve(results as WhenAllResult<T>);
    });
  });
  return all;
}

/**
 * A task that completes with the index (in `tasks`) of the first task to settle, in history
 * order, whether that task succeeded or failed. Await the winner itself for its result.
 *
 * @internal
 */
export function whenAny(
  scope: TaskScope,
  tasks: readonly Task<unknown>[],
): CompletableTask<number> {
  const members = ownTasks(tasks);
  if (members.length === 0) throw invalidArgument("tasks", "must contain at least one task");
  const any = scope.create<number>();
  members.forEach((task, index) => {
    task.onSettled(() => any.resolve(index));
  });
  return any;
}

function ownTasks(tasks: readonly Task<unknown>[]): CompletableTask<unknown>[] {
  if (!Array.isArray(tasks)) throw invalidArgument("tasks", "must be an array of tasks");
  return tasks.map((task, index) => {
    if (task instanceof CompletableTask) return task as CompletableTask<unknown>;
    throw invalidArgument(`tasks[${index}]`, "must be a Task created by an orchestration context");
  });
}
