import { create } from "@bufbuild/protobuf";
import {
  eventRaisedEvent,
  executionStartedEvent,
  orchestratorStartedEvent,
  subOrchestrationFailedEvent,
  taskScheduledEvent,
  timerFiredEvent,
} from "@durabletask/api";
import { TaskFailureDetailsSchema } from "@durabletask/api/proto";
import { describe, expect, it } from "vitest";
import type { OrchestrationCommit, OrchestrationWorkItem } from "../backend.js";
import { childrenOf, commitStatements } from "./commit-statements.js";

const now = Date.UTC(2025, 0, 1);
const start = (instanceId: string) =>
  executionStartedEvent({ name: "N", instanceId, executionId: `${instanceId}-x` }, now);

const item: OrchestrationWorkItem = {
  instanceId: "i",
  lockToken: "token",
  lockExpiresAtMs: now + 1000,
  history: [orchestratorStartedEvent(now), start("i")],
  newEvents: [eventRaisedEvent(now, "E")],
  retryCount: 0,
};

function commit(size: number, changes: Partial<OrchestrationCommit> = {}): OrchestrationCommit {
  const activities = Array.from({ length: size }, (_, i) => taskScheduledEvent(i, now, "A"));
  return {
    resetHistory: false,
    appendHistory: activities,
    instance: {
      runtimeStatus: "RUNNING",
      executionId: "i-x",
      name: "N",
      createdAtMs: now,
      lastUpdatedAtMs: now,
    },
    activities,
    timers: Array.from({ length: size }, (_, i) => ({
      event: timerFiredEvent(now, i, now),
      fireAtMs: now,
    })),
    messages: Array.from({ length: size }, () => ({
      targetInstanceId: "t",
      event: eventRaisedEvent(now, "M"),
    })),
    subOrchestrations: Array.from({ length: size }, (_, i) => ({
      startEvent: start(`c${i}`),
      conflictEvent: subOrchestrationFailedEvent(now, i, create(TaskFailureDetailsSchema, {})),
    })),
    cancelPendingWork: false,
    ...changes,
  };
}

describe("commitStatements", () => {
  it("guards every write by the lease and releases the lease last but one", () => {
    const c = commit(3, { resetHistory: true, cancelPendingWork: true });
    const statements = commitStatements(item, c, childrenOf(c), now);
    const roles = statements.map((s) => s.role);
    expect(roles.slice(-2)).toEqual(["release", "nextVisible"]);
    expect(roles.filter((r) => r === "release")).toHaveLength(1);
    for (const s of statements.slice(0, -2)) {
      expect(s.sql).toMatch(/LockedBy = CAST\(\? AS TEXT\)/);
      expect(s.args).toContain("token");
    }
    // The release is the instance row's last update.
    expect(statements.at(-2)?.sql).toMatch(/^UPDATE Instances SET .*LockedBy = NULL/s);
  });

  it("assigns the indexed columns only when one of them changes", () => {
    const c = commit(1);
    const statements = commitStatements(item, c, childrenOf(c), now);
    const assigning = statements.filter((s) =>
      /^UPDATE Instances SET [^W]*\b(RuntimeStatus|CreatedTime) = /s.test(s.sql),
    );
    expect(assigning).toHaveLength(1);
    expect(assigning[0]?.sql).toMatch(/RuntimeStatus IS NOT \? OR CreatedTime IS NOT \?/);
    expect(statements.at(-2)?.sql).not.toMatch(/RuntimeStatus|CreatedTime/);
  });

  it("leaves out what the caller knows: no claimed rows, index columns already stored", () => {
    const c = commit(1);
    const stored = { executionId: "i-x", createdAtMs: now };
    const sqlOf = (commitAt: OrchestrationCommit) =>
      commitStatements(item, commitAt, childrenOf(commitAt), now, undefined, {
        claimedNothing: true,
        stored,
      }).map((s) => s.sql);
    const claimed = (sql: string) =>
      /^DELETE FROM Inbox WHERE InstanceID = CAST\(\? AS TEXT\) AND LockedBy/.test(sql);
    const running = sqlOf(c);
    expect(running.some(claimed)).toBe(false);
    expect(running.some((sql) => /SET RuntimeStatus/.test(sql))).toBe(false);
    // A status or execution that changes is written.
    const completed = sqlOf({ ...c, instance: { ...c.instance, runtimeStatus: "COMPLETED" } });
    expect(completed.some((sql) => /SET RuntimeStatus/.test(sql))).toBe(true);
    const next = sqlOf({ ...c, instance: { ...c.instance, executionId: "i-y" } });
    expect(next.some((sql) => /SET RuntimeStatus/.test(sql))).toBe(true);
    // Without that knowledge both are written.
    const plain = commitStatements(item, c, childrenOf(c), now).map((s) => s.sql);
    expect(plain.some(claimed)).toBe(true);
    expect(plain.some((sql) => /SET RuntimeStatus/.test(sql))).toBe(true);
  });

  it("bounds every multi-row statement at 500 rows", () => {
    const c = commit(1200);
    const statements = commitStatements(item, c, childrenOf(c), now);
    const count = (pattern: RegExp) => statements.filter((s) => pattern.test(s.sql)).length;
    expect(count(/^INSERT INTO History/)).toBe(3);
    expect(count(/^INSERT INTO ActivityTasks/)).toBe(3);
    expect(count(/^INSERT INTO Instances/)).toBe(3);
    for (const s of statements) {
      const rows = s.sql.match(/\((\?, )*\?\)/g)?.length ?? 0;
      expect(rows).toBeLessThanOrEqual(500);
    }
    const history = statements.filter((s) => /^INSERT INTO History/.test(s.sql));
    // Sequence numbers continue after the stored history (two events).
    expect(history[0]?.args.slice(0, 3)).toEqual(["i", 2, expect.any(Uint8Array)]);
    expect(history[2]?.args.slice(0, 3)).toEqual(["i", 1002, expect.any(Uint8Array)]);
  });

  it("rejects sub-orchestrations whose start event is not an executionStarted", () => {
    const c = commit(1);
    const bad = {
      ...c,
      subOrchestrations: [
        { startEvent: eventRaisedEvent(now, "x"), conflictEvent: eventRaisedEvent(now, "y") },
      ],
    };
    expect(() => childrenOf(bad)).toThrow(/subOrchestrations\[0\]\.startEvent/);
  });
});
