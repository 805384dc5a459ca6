import { describe, expect, it } from "vitest";
import type { OrchestrationContext, Task } from "../src/index.js";
import { captureContext, expectInvalid } from "./history.js";

const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;

describe("context arguments are validated synchronously", () => {
  let ctx: OrchestrationContext;
  const get = async () => {
    ctx ??= await captureContext();
    return ctx;
  };

  it("callActivity", async () => {
    const c = await get();
    expectInvalid(() => c.callActivity(""), "activity");
    expectInvalid(() => c.callActivity(42 as never), "activity");
    expectInvalid(() => c.callActivity(() => 1), "activity");
    expectInvalid(() => c.callActivity("a", 1n), "input");
    expectInvalid(() => c.callActivity("a", () => 1), "input");
    expectInvalid(() => c.callActivity("a", cyclic), "input");
    expectInvalid(() => c.callActivity("a", 1, "fast" as never), "options");
    expectInvalid(() => c.callActivity("a", 1, { version: 2 as never }), "options.version");
    expectInvalid(() => c.callActivity("a", 1, { tags: { k: 1 as never } }), "options.tags.k");
    expectInvalid(() => c.callActivity("a", 1, { retry: 3 as never }), "options.retry");
  });

  it("retry policies", async () => {
    const c = await get();
    const call = (retry: object) => c.callActivity("a", 1, { retry: retry as never });
    const base = { maxAttempts: 3, firstRetryIntervalMs: 10 };
    expectInvalid(() => call({ ...base, maxAttempts: 0 }), "options.retry.maxAttempts");
    expectInvalid(() => call({ ...base, maxAttempts: 1.5 }), "options.retry.maxAttempts");
    expectInvalid(
      () => call({ ...base, firstRetryIntervalMs: 0 }),
      "options.retry.firstRetryIntervalMs",
    );
    expectInvalid(
      () => call({ ...base, firstRetryIntervalMs: Number.NaN }),
      "options.retry.firstRetryIntervalMs",
    );
    expectInvalid(
      () => call({ ...base, backoffCoefficient: 0.5 }),
      "options.retry.backoffCoefficient",
    );
    expectInvalid(
      () => call({ ...base, maxRetryIntervalMs: 0 }),
      "options.retry.maxRetryIntervalMs",
    );
    expectInvalid(() => call({ ...base, retryTimeoutMs: -1 }), "options.retry.retryTimeoutMs");
    expectInvalid(() => call({ ...base, handle: true }), "options.retry.handle");
  });

  it("callSubOrchestrator", async () => {
    const c = await get();
    expectInvalid(() => c.callSubOrchestrator(""), "orchestrator");
    expectInvalid(() => c.callSubOrchestrator(null as never), "orchestrator");
    expectInvalid(() => c.callSubOrchestrator("o", Symbol("s")), "input");
    expectInvalid(() => c.callSubOrchestrator("o", 1, { instanceId: "" }), "options.instanceId");
    expectInvalid(() => c.callSubOrchestrator("o", 1, { version: [] as never }), "options.version");
    expectInvalid(
      () => c.callSubOrchestrator("o", 1, { retry: { maxAttempts: 1 } as never }),
      "options.retry.firstRetryIntervalMs",
    );
  });

  it("createTimer", async () => {
    const c = await get();
    expectInvalid(() => c.createTimer(-1), "delayMs");
    expectInvalid(() => c.createTimer(Number.NaN), "delayMs");
    expectInvalid(() => c.createTimer(Number.POSITIVE_INFINITY), "delayMs");
    expectInvalid(() => c.createTimer("10" as never), "delayMs");
    expectInvalid(() => c.createTimer(new Date("nope")), "fireAt");
  });

  it("waitForExternalEvent", async () => {
    const c = await get();
    expectInvalid(() => c.waitForExternalEvent(""), "name");
    expectInvalid(() => c.waitForExternalEvent(7 as never), "name");
    expectInvalid(() => c.waitForExternalEvent("e", { timeoutMs: -5 }), "options.timeoutMs");
    expectInvalid(
      () => c.waitForExternalEvent("e", { timeoutMs: Number.NaN }),
      "options.timeoutMs",
    );
  });

  it("sendEvent", async () => {
    const c = await get();
    expectInvalid(() => c.sendEvent("", "e"), "instanceId");
    expectInvalid(() => c.sendEvent("i", ""), "name");
    expectInvalid(() => c.sendEvent("i", "e", 5n), "data");
  });

  it("continueAsNew, setCustomStatus", async () => {
    const c = await get();
    expectInvalid(() => c.continueAsNew(cyclic), "input");
    expectInvalid(
      () => c.continueAsNew(1, { keepUnprocessedEvents: "yes" as never }),
      "options.keepUnprocessedEvents",
    );
    expectInvalid(() => c.setCustomStatus(() => 1), "customStatus");
  });

  it("whenAll, whenAny", async () => {
    const c = await get();
    const foreign = Promise.resolve(1) as unknown as Task<number>;
    expectInvalid(() => c.whenAll([c.createTimer(1), foreign]), "tasks[1]");
    expectInvalid(() => c.whenAll("x" as never), "tasks");
    expectInvalid(() => c.whenAny([]), "tasks");
    expectInvalid(() => c.whenAny([foreign]), "tasks[0]");
  });

  it("accepts valid arguments", async () => {
    const c = await get();
    expect(
      c.callActivity("a", { ok: [1, "x", null] }, { version: "1", tags: { k: "v" } }).isComplete,
    ).toBe(false);
    expect(c.createTimer(new Date(0)).isFailed).toBe(false);
  });
});
