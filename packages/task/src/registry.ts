import { describe, invalidArgument } from "@durabletask/api";
import type { Activity } from "./activity-context.js";
import type { Orchestrator } from "./orchestration-context.js";
import { taskNameOf } from "./task-name.js";

/** The name that registers a fallback for every name without its own registration. */
export const wildcardName = "*";

/**
 * The orchestrators and activities a worker can run, by name. Names are case-sensitive; the
 * name {@link wildcardName} (`"*"`) registers a fallback used for unknown names.
 *
 * Every `add*` method throws a {@link DurableTaskError} with code `InvalidArgument` naming the
 * field when the name is empty, too long, taken, or missing (an anonymous function), or when
 * the implementation is not a function. They return the registry for chaining.
 */
export interface TaskRegistry {
  /** Registers `orchestrator` under its function name. */
  addOrchestrator<TIn, TOut>(orchestrator: Orchestrator<TIn, TOut>): TaskRegistry;
  /** Registers `orchestrator` under `name`. */
  addOrchestrator<TIn, TOut>(name: string, orchestrator: Orchestrator<TIn, TOut>): TaskRegistry;
  /** Registers `activity` under its function name. */
  addActivity<TIn, TOut>(activity: Activity<TIn, TOut>): TaskRegistry;
  /** Registers `activity` under `name`. */
  addActivity<TIn, TOut>(name: string, activity: Activity<TIn, TOut>): TaskRegistry;
  /** The orchestrator registered as `name`, else the wildcard one, else `undefined`. */
  getOrchestrator(name: string): Orchestrator | undefined;
  /** The activity registered as `name`, else the wildcard one, else `undefined`. */
  getActivity(name: string): Activity | undefined;
}

// Implementations are stored with their input type erased to `never`, which every concrete
// input type accepts; callers hand them parsed JSON, whose type is the caller's promise.
type StoredFn = (ctx: never, input: never) => unknown;

/** An empty {@link TaskRegistry}. */
export function createTaskRegistry(): TaskRegistry {
  const orchestrators = new Map<string, StoredFn>();
  const activities = new Map<string, StoredFn>();
  const registry: TaskRegistry = {
    addOrchestrator(nameOrFn: unknown, fn?: unknown) {
      register(orchestrators, "orchestrator", nameOrFn, fn);
      return registry;
    },
    addActivity(nameOrFn: unknown, fn?: unknown) {
      register(activities, "activity", nameOrFn, fn);
      return registry;
    },
    getOrchestrator: (name) => lookup(orchestrators, name) as Orchestrator | undefined,
    getActivity: (name) => lookup(activities, name) as Activity | undefined,
  };
  return registry;
}

function register(map: Map<string, StoredFn>, kind: string, nameOrFn: unknown, fn: unknown): void {
  const named = typeof nameOrFn === "string";
  const impl = named ? fn : nameOrFn;
  if (typeof impl !== "function") {
    throw invalidArgument(kind, `must be a function, got ${describe(impl)}`);
  }
  const name = named ? taskNameOf(nameOrFn, "name") : taskNameOf(impl, kind);
  if (map.has(name)) throw invalidArgument("name", `${kind} '${name}' is already registered`);
  map.set(name, impl as StoredFn);
}

function lookup(map: Map<string, StoredFn>, name: string): StoredFn | undefined {
  return map.get(name) ?? map.get(wildcardName);
}
