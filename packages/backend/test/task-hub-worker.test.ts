import { create } from "@bufbuild/protobuf";
import type { Executor } from "@durabletask/api";
import { ActivityResponseSchema, OrchestratorResponseSchema } from "@durabletask/api/proto";
import { describe, expect, it } from "vitest";
import { type ActivityWorkItem, type Backend, createTaskHubWorker } from "../src/index.js";

/** A backend that records lifecycle calls and hands out one slow activity. */
function recordingBackend(log: string[]): Backend {
  let handedOut = false;
  const item = {
    sequenceNumber: 1,
    instanceId: "i",
    executionId: "e",
    lockToken: "t",
    lockExpiresAtMs: Date.now() + 60_000,
    retryCount: 0,
  } as unknown as ActivityWorkItem;
  const backend: Partial<Backend> = {
    description: "recording",
    start: async () => void log.push("backend.start"),
    stop: async () => void log.push("backend.stop"),
    subscribe: () => () => {},
    lockOrchestrationWorkItems: async () => [],
    async lockActivityWorkItems() {
      if (handedOut) return [];
      handedOut = true;
      return [
        {
          ...item,
          event: { eventId: 3, eventType: { case: "taskScheduled", value: { name: "Slow" } } },
        } as unknown as ActivityWorkItem,
      ];
    },
    completeActivityWorkItem: async () => void log.push("activity.complete"),
    abandonActivityWorkItem: async () => void log.push("activity.abandon"),
    renewActivityWorkItemLock: async () => Date.now() + 60_000,
  };
  return backend as Backend;
}

function slowExecutor(log: string[], ms: number): Executor {
  return {
    executeOrchestrator: async () => create(OrchestratorResponseSchema, {}),
    async executeActivity(request) {
      log.push("activity.start");
      await new Promise((resolve) => setTimeout(resolve, ms));
      log.push("activity.end");
      return create(ActivityResponseSchema, { taskId: request.taskId, result: '"ok"' });
    },
  };
}

describe("createTaskHubWorker", () => {
  it("starts the backend before taking work, and drains in-flight work before stopping it", async () => {
    const log: string[] = [];
    const worker = createTaskHubWorker({
      backend: recordingBackend(log),
      executor: slowExecutor(log, 150),
    });
    await worker.start();
    while (!log.includes("activity.start")) await new Promise((resolve) => setTimeout(resolve, 5));
    await worker.stop();
    expect(log).toEqual([
      "backend.start",
      "activity.start",
      "activity.end",
      "activity.complete",
      "backend.stop",
    ]);
  });

  it("gives unfinished work back after drainTimeoutMs instead of waiting forever", async () => {
    const log: string[] = [];
    const executor: Executor = {
      executeOrchestrator: async () => create(OrchestratorResponseSchema, {}),
      executeActivity: (_request, options) =>
        new Promise((_resolve, reject) => {
          log.push("activity.start");
          options?.signal?.addEventListener("abort", () => reject(options.signal?.reason));
        }),
    };
    const worker = createTaskHubWorker({
      backend: recordingBackend(log),
      executor,
      drainTimeoutMs: 50,
    });
    await worker.start();
    while (!log.includes("activity.start")) await new Promise((resolve) => setTimeout(resolve, 5));
    await worker.stop();
    expect(log).toEqual(["backend.start", "activity.start", "activity.abandon", "backend.stop"]);
  });

  it("rejects bad options with InvalidArgument naming the field", () => {
    const backend = recordingBackend([]);
    const executor = slowExecutor([], 0);
    expect(() => createTaskHubWorker({ backend, executor, maxConcurrentActivities: 0 })).toThrow(
      /maxConcurrentActivities/,
    );
    expect(() => createTaskHubWorker({ backend, executor, drainTimeoutMs: -1 })).toThrow(
      /drainTimeoutMs/,
    );
  });
});
