// The task hub invariant checker that the fuzz and storage-fault tests rely on: silent on a
// database the engine wrote, and it names each kind of damage it is meant to catch.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkTaskHubFile, startEngine } from "@durabletask/testing";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSqliteBackend } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "durabletask-invariants-"));
const path = join(dir, "hub.sqlite3");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const engine = await startEngine(
    async () => createSqliteBackend({ path }),
    (registry) => {
      registry.addActivity("twice", (_ctx, n: number) => n * 2);
      registry.addOrchestrator("sum", async (ctx, n: number) => {
        const a = await ctx.callActivity<number>("twice", n);
        const b = await ctx.callActivity<number>("twice", a);
        return a + b;
      });
      registry.addOrchestrator("waits", (ctx) => ctx.waitForExternalEvent("never"));
    },
  );
  try {
    for (const id of ["s1", "s2"]) {
      await engine.client.scheduleNewOrchestration("sum", { instanceId: id, input: 1 });
      const done = await engine.client.waitForOrchestrationCompletion(id, { timeoutMs: 20_000 });
      expect(done.serializedOutput).toBe("6");
    }
    await engine.client.scheduleNewOrchestration("waits", { instanceId: "w1" });
    await engine.client.waitForOrchestrationStart("w1", { timeoutMs: 20_000 });
    await engine.client.terminateOrchestration("s2");
  } finally {
    await engine.stop();
  }
});

/** Runs `damage` on a copy of the database and returns what the checker reports. */
function checkAfter(damage: string): string[] {
  const copy = join(dir, `copy-${Math.random().toString(36).slice(2)}.sqlite3`);
  const source = new Database(path);
  source.exec(`VACUUM INTO '${copy}'`);
  source.close();
  const db = new Database(copy);
  db.exec(damage);
  db.close();
  return checkTaskHubFile(copy);
}

it("finds nothing wrong with a database the engine wrote", () => {
  expect(checkTaskHubFile(path)).toEqual([]);
});

it.each([
  [
    "an inbox row without an instance",
    "INSERT INTO Inbox (InstanceID, EventKind, VisibleTime, EventPayload) VALUES ('ghost', 'eventRaised', 0, x'')",
    "Inbox: rows of instance 'ghost'",
  ],
  [
    "a gap in the history",
    "DELETE FROM History WHERE InstanceID = 's1' AND SequenceNumber = 2",
    "History: 's1' sequence numbers",
  ],
  [
    "a lease without an expiry",
    "UPDATE Instances SET LockedBy = 'w', LockExpiration = NULL WHERE InstanceID = 'w1'",
    "'w1' has a lease without an expiry",
  ],
  [
    "a completed instance without an ExecutionCompleted event",
    "UPDATE Instances SET RuntimeStatus = 'COMPLETED', CompletedTime = 1 WHERE InstanceID = 'w1'",
    "History: 'w1' is COMPLETED with 0 ExecutionCompleted events",
  ],
  [
    "a terminal status without a completion time",
    "UPDATE Instances SET CompletedTime = NULL WHERE InstanceID = 's1'",
    "'s1' is COMPLETED with CompletedTime null",
  ],
  [
    "claimed inbox rows of an unleased instance",
    "INSERT INTO Inbox (InstanceID, EventKind, VisibleTime, LockedBy, EventPayload) VALUES ('w1', 'eventRaised', 0, 'gone', x'')",
    "Inbox: claimed rows of 'w1'",
  ],
  [
    "an undecodable history event",
    "UPDATE History SET EventPayload = x'0f0f' WHERE InstanceID = 's1' AND SequenceNumber = 0",
    "does not decode",
  ],
  [
    "a history of another execution",
    "UPDATE Instances SET ExecutionID = 'other' WHERE InstanceID = 's1'",
    "row says execution other",
  ],
])("reports %s", (_what, damage, report) => {
  const problems = checkAfter(damage);
  expect(problems.join("\n")).toContain(report);
});
