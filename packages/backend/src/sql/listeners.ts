import type { Logger, OrchestrationStatus } from "@durabletask/api";
import type { BackendListener, WorkKind } from "../backend.js";

/**
 * The in-process listeners of one backend. Notifications are delivered synchronously after the
 * write committed; a throwing listener is logged and never affects the backend or other
 * listeners.
 */
export class Listeners {
  readonly #listeners = new Set<BackendListener>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds `listener`; returns the function that removes it (idempotent). */
  add(listener: BackendListener): () => void {
    // A wrapper per subscription, so subscribing one object twice needs two unsubscribes.
    const entry: BackendListener = {
      onWork: (kind, at) => listener.onWork?.(kind, at),
      onInstanceChanged: (id, status) => listener.onInstanceChanged?.(id, status),
    };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Tells every listener that work of `kind` becomes visible at `visibleAtMs`. */
  work(kind: WorkKind, visibleAtMs: number): void {
    this.#each("onWork", (l) => l.onWork?.(kind, visibleAtMs));
  }

  /**
   * Tells every listener that the stored state of `instanceId` changed, leaving it in
   * `runtimeStatus` (`undefined`: not known, or the instance is gone).
   */
  instanceChanged(instanceId: string, runtimeStatus?: OrchestrationStatus): void {
    this.#each("onInstanceChanged", (l) => l.onInstanceChanged?.(instanceId, runtimeStatus));
  }

  #each(what: string, call: (listener: BackendListener) => void): void {
    for (const listener of [...this.#listeners]) {
      try {
        call(listener);
      } catch (err) {
        this.#logger.warn(`backend listener ${what} threw`, { error: err });
      }
    }
  }
}
