import type { OrchestrationCommit } from "../backend.js";
import type { CommitRole, CommitStatement } from "./commit-statements.js";
import type { SqlResult, SqlValue } from "./driver.js";
import type { Listeners } from "./listeners.js";
import { optionalInt } from "./rows.js";
import { type StartedInstance, startVisibleAt } from "./start-event.js";

/** Announces the earliest remaining inbox row (a `MIN(VisibleTime)` row) as orchestration work. */
export function announceNextVisible(
  listeners: Listeners,
  rows: readonly (readonly SqlValue[])[],
  nowMs: number,
): void {
  const next = optionalInt(rows[0]?.[0], "VisibleTime");
  if (next !== undefined) listeners.work("orchestration", Math.max(next, nowMs));
}

/** What a commit batch did, read from the results of its {@link CommitStatement}s. */
export class CommitOutcome {
  readonly #statements: readonly CommitStatement[];
  readonly #results: readonly SqlResult[];

  constructor(statements: readonly CommitStatement[], results: readonly SqlResult[]) {
    this.#statements = statements;
    this.#results = results;
  }

  /** False when the lease was lost (and then nothing was applied). */
  get released(): boolean {
    return this.#changes("release") > 0;
  }

  /** Tells listeners about the work the commit queued and the instances it changed. */
  announce(
    listeners: Listeners,
    instanceId: string,
    commit: OrchestrationCommit,
    children: readonly StartedInstance[],
    nowMs: number,
  ): void {
    if (commit.activities.length > 0) listeners.work("activity", nowMs);
    if (this.#changes("message") > 0) listeners.work("orchestration", nowMs);
    const created = this.#changes("childStart") > 0 ? children.map((c) => c.instanceId) : [];
    if (created.length > 0) {
      const visibleAt = Math.min(...children.map((c) => startVisibleAt(c, nowMs)));
      listeners.work("orchestration", visibleAt);
    }
    const last = this.#results[this.#results.length - 1];
    announceNextVisible(listeners, last?.rows ?? [], nowMs);
    listeners.instanceChanged(instanceId, commit.instance.runtimeStatus);
    for (const id of created) listeners.instanceChanged(id, "PENDING");
  }

  /** The rows returned by the statements with `role`, in statement order. */
  rowsOf(role: CommitRole): (readonly SqlValue[])[] {
    const rows: (readonly SqlValue[])[] = [];
    for (const [i, s] of this.#statements.entries()) {
      if (s.role === role) rows.push(...(this.#results[i]?.rows ?? []));
    }
    return rows;
  }

  #changes(role: CommitRole): number {
    let sum = 0;
    for (const [i, s] of this.#statements.entries()) {
      if (s.role === role) sum += this.#results[i]?.changes ?? 0;
    }
    return sum;
  }
}
