import {
  assertInstanceId,
  assertNonNegativeMs,
  assertOptionalBoolean,
  assertOptionalSignal,
  DurableTaskError,
  type OrchestrationMetadata,
  type OrchestrationStatus,
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
/** Shortest pause before the first poll. */
const minPollIntervalMs = 50;
/**
 * The first pause grows by this much per wait on the same backend, so that many waits poll at
 * most ~2,000 times a second together (1,000 waits on W1: 4.6 reads per orchestration with a
 * fixed 50 ms start, mostly polls of instances still queued here).
 */
const pollIntervalMsPerWait = 0.5;

/**
 * The waits on one backend, by instance id, behind a single backend subscription: a change
 * wakes only the waits on that instance, so a commit costs the same with 10 or 100,000 waits
 * (one subscription per wait made every change visit every wait).
 */
/** Wakes one wait; `status` is the instance's new runtime status when the backend knows it. */
type Wake = (status: OrchestrationStatus | undefined) => void;

class InstanceWaits {
  readonly #byInstance = new Map<string, Set<Wake>>();
  readonly #backend: Backend;
  #unsubscribe: (() => void) | undefined;
  #count = 0;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** Calls `wake` after each change to `instanceId`; returns the function that stops it. */
  watch(instanceId: string, wake: Wake): () => void {
    let waits = this.#byInstance.get(instanceId);
    if (waits === undefined) {
      waits = new Set();
      this.#byInstance.set(instanceId, waits);
    }
    // A fresh function per watch, so one `wake` watched twice needs two stops.
    const entry: Wake = (status) => wake(status);
    waits.add(entry);
    this.#count++;
    this.#unsubscribe ??= this.#backend.subscribe({
      onInstanceChanged: (id, status) => this.#changed(id, status),
    });
    return () => {
      const current = this.#byInstance.get(instanceId);
      if (current === undefined || !current.delete(entry)) return;
      this.#count--;
      if (current.size === 0) this.#byInstance.delete(instanceId);
      if (this.#byInstance.size === 0) {
        this.#unsubscribe?.();
        this.#unsubscribe = undefined;
      }
    };
  }

  /** Waits registered now. */
  get count(): number {
    return this.#count;
  }

  #changed(instanceId: string, status: OrchestrationStatus | undefined): void {
    const waits = this.#byInstance.get(instanceId);
    if (waits === undefined) return;
    for (const wake of [...waits]) wake(status);
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
 * With `mayBeDone`, a change to a runtime status it rejects does not read the metadata again
 * (`done` must then depend on nothing but the status where `mayBeDone` says false), and puts
 * off the next poll: the instance is being worked on here, and this process hears of its
 * changes. Cleans up its listener and timers however it ends.
 */
export async function waitForInstance(
  backend: Backend,
  instanceId: string,
  done: (metadata: OrchestrationMetadata) => boolean,
  waitOptions: WaitOptions = {},
  mayBeDone?: (runtimeStatus: OrchestrationStatus) => boolean,
): Promise<OrchestrationMetadata> {
  assertInstanceId(instanceId);
  const options = waitOptionsOf(waitOptions);
  const fetchPayloads = options.fetchPayloads ?? true;
  const deadline =
    options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  let wake: (() => void) | undefined;
  let postpone: (() => void) | undefined;
  let changed = false;
  const waits = waitsOf(backend);
  const unsubscribe = waits.watch(instanceId, (status) => {
    if (status !== undefined && mayBeDone !== undefined && !mayBeDone(status)) {
      postpone?.();
      return;
    }
    changed = true;
    wake?.();
  });
  const onAbort = (): void => wake?.();
  options.signal?.addEventListener("abort", onAbort);
  try {
    for (let pollMs = 0; ; pollMs = Math.min(pollMs * 2, maxPollIntervalMs)) {
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
      if (pollMs === 0) {
        // The first pause, once the waits started together have all registered.
        const spread = waits.count * pollIntervalMsPerWait;
        pollMs = Math.min(maxPollIntervalMs, Math.max(minPollIntervalMs, spread));
      }
      if (!changed) {
        const delayMs = pollMs;
        await new Promise<void>((resolve) => {
          let timer = setTimeout(resolve, Math.min(delayMs, remainingMs));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          postpone = () => {
            clearTimeout(timer);
            timer = setTimeout(resolve, Math.max(0, Math.min(delayMs, deadline - Date.now())));
          };
        });
        wake = undefined;
        postpone = undefined;
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
