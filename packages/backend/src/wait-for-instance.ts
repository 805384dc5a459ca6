import {
  assertInstanceId,
  assertNonNegativeMs,
  assertOptionalBoolean,
  assertOptionalSignal,
  DurableTaskError,
  type OrchestrationMetadata,
  optionsOf,
} from "@durabletask/api";
import type { Backend } from "./backend.js";

/** Options of the client's wait methods. */
export interface WaitOptions {
  /** Give up after this long with a `Timeout` error; default: wait until done or aborted. */
  readonly timeoutMs?: number | undefined;
  /** Give up when this fires, with an `Aborted` error. */
  readonly signal?: AbortSignal | undefined;
  /** Include input, output and custom status; default true. */
  readonly fetchPayloads?: boolean | undefined;
}

/** Validated wait options: `InvalidArgument` naming `timeoutMs`, `signal` or `fetchPayloads`. */
export function waitOptionsOf(value: WaitOptions | undefined): WaitOptions {
  const options = optionsOf(value);
  if (options.timeoutMs !== undefined) assertNonNegativeMs(options.timeoutMs, "timeoutMs");
  assertOptionalSignal(options.signal);
  assertOptionalBoolean(options.fetchPayloads, "fetchPayloads");
  return options;
}

/** Longest pause between checks; changes made in this process wake the wait at once. */
const maxPollIntervalMs = 1000;

/**
 * The waits on one backend, by instance id, behind a single backend subscription: a change
 * wakes only the waits on that instance, so a commit costs the same with 10 or 100,000 waits
 * (one subscription per wait made every change visit every wait).
 */
class InstanceWaits {
  readonly #byInstance = new Map<string, Set<() => void>>();
  readonly #backend: Backend;
  #unsubscribe: (() => void) | undefined;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** Calls `wake` after each change to `instanceId`; returns the function that stops it. */
  watch(instanceId: string, wake: () => void): () => void {
    let waits = this.#byInstance.get(instanceId);
    if (waits === undefined) {
      waits = new Set();
      this.#byInstance.set(instanceId, waits);
    }
    // A fresh function per watch, so one `wake` watched twice needs two stops.
    const entry = (): void => wake();
    waits.add(entry);
    this.#unsubscribe ??= this.#backend.subscribe({
      onInstanceChanged: (id) => this.#changed(id),
    });
    return () => {
      const current = this.#byInstance.get(instanceId);
      if (current === undefined || !current.delete(entry)) return;
      if (current.size === 0) this.#byInstance.delete(instanceId);
      if (this.#byInstance.size === 0) {
        this.#unsubscribe?.();
        this.#unsubscribe = undefined;
      }
    };
  }

  #changed(instanceId: string): void {
    const waits = this.#byInstance.get(instanceId);
    if (waits === undefined) return;
    for (const wake of [...waits]) wake();
  }
}

const waitsByBackend = new WeakMap<Backend, InstanceWaits>();

function waitsOf(backend: Backend): InstanceWaits {
  let waits = waitsByBackend.get(backend);
  if (waits === undefined) {
    waits = new InstanceWaits(backend);
    waitsByBackend.set(backend, waits);
  }
  return waits;
}

/**
 * Waits until `instanceId`'s metadata satisfies `done`. Woken by the backend's change
 * notifications; polls with back-off (50 ms up to 1 s) for changes made by other processes.
 * Cleans up its listener and timers however it ends.
 */
export async function waitForInstance(
  backend: Backend,
  instanceId: string,
  done: (metadata: OrchestrationMetadata) => boolean,
  waitOptions: WaitOptions = {},
): Promise<OrchestrationMetadata> {
  assertInstanceId(instanceId);
  const options = waitOptionsOf(waitOptions);
  const fetchPayloads = options.fetchPayloads ?? true;
  const deadline =
    options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  let wake: (() => void) | undefined;
  let changed = false;
  const unsubscribe = waitsOf(backend).watch(instanceId, () => {
    changed = true;
    wake?.();
  });
  const onAbort = (): void => wake?.();
  options.signal?.addEventListener("abort", onAbort);
  try {
    for (let pollMs = 50; ; pollMs = Math.min(pollMs * 2, maxPollIntervalMs)) {
      checkAborted(options.signal, instanceId);
      changed = false;
      const metadata = await backend.getOrchestrationMetadata(instanceId, { fetchPayloads });
      if (metadata === undefined) {
        throw new DurableTaskError(
          "InstanceNotFound",
          `No orchestration instance with id '${instanceId}'.`,
        );
      }
      if (done(metadata)) return metadata;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new DurableTaskError(
          "Timeout",
          `Timed out after ${options.timeoutMs} ms waiting for '${instanceId}' (status ${metadata.runtimeStatus}).`,
        );
      }
      if (!changed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(pollMs, remainingMs));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  } finally {
    unsubscribe();
    options.signal?.removeEventListener("abort", onAbort);
  }
}

function checkAborted(signal: AbortSignal | undefined, instanceId: string): void {
  if (signal?.aborted) {
    throw new DurableTaskError(
      "Aborted",
      `Stopped waiting for '${instanceId}': the signal was aborted.`,
      {
        cause: signal.reason,
      },
    );
  }
}
