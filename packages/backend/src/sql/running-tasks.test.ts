import { taskScheduledEvent } from "@durabletask/api";
import { describe, expect, it } from "vitest";
import type { ActivityWorkItem } from "../backend.js";
import { RunningTasks } from "./running-tasks.js";

function task(
  instanceId: string,
  sequenceNumber: number,
  lockExpiresAtMs = 1000,
): ActivityWorkItem {
  return {
    sequenceNumber,
    instanceId,
    executionId: "e",
    lockToken: `t${sequenceNumber}`,
    lockExpiresAtMs,
    event: taskScheduledEvent(sequenceNumber, 0, "A"),
    retryCount: 0,
  };
}

describe("RunningTasks", () => {
  it("counts an instance's tasks until each is settled, once", () => {
    const running = new RunningTasks();
    const [a, b] = [task("i", 1), task("i", 2)];
    running.add([a, b]);
    running.settled(a);
    running.settled(a); // twice: no effect
    running.settled(task("i", 9)); // never handed out: no effect
    expect(running.any("i", 0)).toBe(true);
    running.settled(b);
    expect(running.any("i", 0)).toBe(false);
    expect(running.any("other", 0)).toBe(false);
  });

  it("stops counting tasks whose leases ran out, unless renewed", () => {
    const running = new RunningTasks();
    const a = task("i", 1, 100);
    running.add([a]);
    running.renewed(a, 300);
    expect(running.any("i", 200)).toBe(true);
    expect(running.any("i", 300)).toBe(false);
  });
});
