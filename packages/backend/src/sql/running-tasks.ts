import type { ActivityWorkItem } from "../backend.js";

interface Running {
  count: number;
  /** The latest lease expiry of the instance's tasks; past it, none counts as running here. */
  untilMs: number;
}

/**
 * The activity tasks this backend handed out and that are not yet completed or abandoned, per
 * instance. While more of an instance's results are on their way from this process (a fan-out),
 * a result's commit does not lease the instance for an episode: the episode would take that one
 * result while the others queue behind it, where the last result's episode takes them all. A
 * count that is never settled (a task dropped without completing or abandoning it) stops counting
 * when its leases run out, so it can only delay that shortcut, never block work.
 */
export class RunningTasks {
  readonly #byInstance = new Map<string, Running>();

  /** Counts `items`, just handed out. */
  add(items: readonly ActivityWorkItem[]): void {
    for (const item of items) {
      const running = this.#byInstance.get(item.instanceId);
      if (running === undefined) {
        this.#byInstance.set(item.instanceId, { count: 1, untilMs: item.lockExpiresAtMs });
      } else {
        running.count += 1;
        running.untilMs = Math.max(running.untilMs, item.lockExpiresAtMs);
      }
    }
  }

  /** A task of `item`'s instance was renewed until `expiresAtMs`. */
  renewed(item: ActivityWorkItem, expiresAtMs: number): void {
    const running = this.#byInstance.get(item.instanceId);
    if (running !== undefined) running.untilMs = Math.max(running.untilMs, expiresAtMs);
  }

  /** A task of `instanceId` was completed or abandoned (or its completion is under way). */
  settled(instanceId: string): void {
    const running = this.#byInstance.get(instanceId);
    if (running === undefined) return;
    running.count -= 1;
    if (running.count <= 0) this.#byInstance.delete(instanceId);
  }

  /** True while other tasks of `instanceId` run here. */
  any(instanceId: string, nowMs: number): boolean {
    const running = this.#byInstance.get(instanceId);
    if (running === undefined) return false;
    if (running.untilMs <= nowMs) {
      this.#byInstance.delete(instanceId);
      return false;
    }
    return true;
  }

  clear(): void {
    this.#byInstance.clear();
  }
}
