import type { ActivityWorkItem } from "../backend.js";

interface Running {
  /** The tasks, by lease (token and queue position). */
  readonly leases: Set<string>;
  /** The latest lease expiry of the instance's tasks; past it, none counts as running here. */
  untilMs: number;
}

function leaseOf(item: ActivityWorkItem): string {
  return `${item.sequenceNumber}:${item.lockToken}`;
}

/**
 * The activity tasks this backend handed out and that are not yet completed or abandoned, per
 * instance. While more of an instance's results are on their way from this process (a fan-out),
 * a result's commit does not lease the instance for an episode: the episode would take that one
 * result while the others queue behind it, where the last result's episode takes them all. Tasks
 * are told apart by their lease, so settling a task twice, or one never handed out, changes
 * nothing. Tasks never settled (dropped without completing or abandoning them) stop counting
 * when their leases run out, so they can only delay that shortcut, never block work.
 */
export class RunningTasks {
  readonly #byInstance = new Map<string, Running>();

  /** Counts `items`, just handed out. */
  add(items: readonly ActivityWorkItem[]): void {
    for (const item of items) {
      const running = this.#byInstance.get(item.instanceId);
      if (running === undefined) {
        const leases = new Set([leaseOf(item)]);
        this.#byInstance.set(item.instanceId, { leases, untilMs: item.lockExpiresAtMs });
      } else {
        running.leases.add(leaseOf(item));
        running.untilMs = Math.max(running.untilMs, item.lockExpiresAtMs);
      }
    }
  }

  /** `item`'s lease was renewed until `expiresAtMs`. */
  renewed(item: ActivityWorkItem, expiresAtMs: number): void {
    const running = this.#byInstance.get(item.instanceId);
    if (running !== undefined) running.untilMs = Math.max(running.untilMs, expiresAtMs);
  }

  /** `item` was completed or abandoned (or its completion is under way). */
  settled(item: ActivityWorkItem): void {
    const running = this.#byInstance.get(item.instanceId);
    if (running === undefined) return;
    running.leases.delete(leaseOf(item));
    if (running.leases.size === 0) this.#byInstance.delete(item.instanceId);
  }

  /** True while tasks of `instanceId` run here. */
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
