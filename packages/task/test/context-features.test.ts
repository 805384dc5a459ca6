import {
  DurableTaskError,
  eventSentEvent,
  subOrchestrationCompletedEvent,
  subOrchestrationCreatedEvent,
  subOrchestrationFailedEvent,
  timerCreatedEvent,
  timerFiredEvent,
} from "@durabletask/api";
import { describe, expect, it } from "vitest";
import type { OrchestrationContext } from "../src/index.js";
import { uuidV5 } from "../src/new-guid.js";
import {
  actionsOf,
  begin,
  completionOf,
  executionStarted,
  failure,
  run,
  startedAt,
  t0,
} from "./history.js";

describe("sub-orchestrations", () => {
  const parent = async (ctx: OrchestrationContext) => {
    await ctx.createTimer(1);
    await ctx.createTimer(1);
    await ctx.createTimer(1);
    const a = ctx.callSubOrchestrator("child", 1);
    const b = ctx.callSubOrchestrator("child", 2, { instanceId: "custom" });
    return Promise.all([a, b]);
  };
  const timers = [0, 1, 2].flatMap((id) => [
    timerCreatedEvent(id, t0, t0 + 1),
    timerFiredEvent(t0 + 1, id, t0 + 1),
  ]);

  it("names children <instance id>:<4 hex digits of the sequence number> by default", async () => {
    const response = await run(parent, [...begin(), ...timers], []);
    expect(actionsOf(response)).toEqual([
      { id: 3, kind: "createSubOrchestration", name: "child", instanceId: "abc:0003", input: 1 },
      { id: 4, kind: "createSubOrchestration", name: "child", instanceId: "custom", input: 2 },
    ]);
  });

  it("resolves with the child's output and fails with TaskFailed", async () => {
    const past = [
      ...begin(),
      ...timers,
      subOrchestrationCreatedEvent(3, t0, { instanceId: "abc:0003", name: "child" }),
      subOrchestrationCreatedEvent(4, t0, { instanceId: "custom", name: "child" }),
    ];
    const ok = await run(parent, past, [
      startedAt(5),
      subOrchestrationCompletedEvent(t0 + 5, 4, '"b"'),
      subOrchestrationCompletedEvent(t0 + 5, 3, '"a"'),
    ]);
    expect(completionOf(ok)).toMatchObject({ id: 5, status: "COMPLETED", result: '["a","b"]' });
    const failed = await run(parent, past, [
      startedAt(5),
      subOrchestrationFailedEvent(t0 + 5, 3, failure("nope")),
    ]);
    expect(completionOf(failed)).toMatchObject({
      status: "FAILED",
      errorType: "DurableTaskError",
      errorMessage: "Sub-orchestration 'child' (task 3) failed: nope",
    });
  });

  it("exposes the parent instance id to the child", async () => {
    let parentId: string | undefined;
    await run(
      (ctx) => {
        parentId = ctx.parentInstanceId;
      },
      [],
      [startedAt(0), executionStarted("orch", undefined, "the-parent")],
    );
    expect(parentId).toBe("the-parent");
  });
});

describe("sendEvent", () => {
  const sender = async (ctx: OrchestrationContext) => {
    ctx.sendEvent("target", "Ping", { n: 1 });
    await ctx.createTimer(10);
    return "sent";
  };

  it("emits a SendEvent action with a sequence number", async () => {
    const response = await run(sender, [], begin());
    expect(actionsOf(response)).toEqual([
      { id: 0, kind: "sendEvent", instanceId: "target", name: "Ping", data: { n: 1 } },
      { id: 1, kind: "createTimer", fireAtMs: t0 + 10 },
    ]);
  });

  it("is emitted together with the completion when the orchestrator returns right away", async () => {
    const response = await run(
      (ctx) => {
        ctx.sendEvent("target", "Bye");
        return 1;
      },
      [],
      begin(),
    );
    expect(actionsOf(response)).toEqual([
      { id: 0, kind: "sendEvent", instanceId: "target", name: "Bye", data: undefined },
      { id: 1, kind: "completeOrchestration", status: "COMPLETED", result: "1" },
    ]);
  });

  it("matches a recorded eventSent and does not send again", async () => {
    const past = [
      ...begin(),
      eventSentEvent(0, t0, "target", "Ping", '{"n":1}'),
      timerCreatedEvent(1, t0, t0 + 10),
    ];
    const response = await run(sender, past, [startedAt(10), timerFiredEvent(t0 + 10, 1, t0 + 10)]);
    expect(actionsOf(response)).toEqual([
      { id: 2, kind: "completeOrchestration", status: "COMPLETED", result: '"sent"' },
    ]);
  });
});

describe("newGuid", () => {
  const guids = async (ctx: OrchestrationContext) => {
    const first = [ctx.newGuid(), ctx.newGuid()];
    await ctx.createTimer(1);
    return [...first, ctx.newGuid()];
  };
  const past = [...begin(), timerCreatedEvent(0, t0, t0 + 1)];
  const next = [startedAt(1), timerFiredEvent(t0 + 1, 0, t0 + 1)];

  it("is deterministic across replays and different per call", async () => {
    const a = JSON.parse(String(completionOf(await run(guids, past, next)).result)) as string[];
    const b = JSON.parse(String(completionOf(await run(guids, past, next)).result)) as string[];
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(3);
    for (const guid of a)
      expect(guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("follows the .NET scheme: v5 over <instance>_<time with 7 digits>Z_<counter>", async () => {
    const [first, , third] = JSON.parse(
      String(completionOf(await run(guids, past, next)).result),
    ) as string[];
    const ns = "9e952958-5e33-4daf-827f-2fa12937b875";
    expect(first).toBe(uuidV5(ns, "abc_2024-01-01T00:00:00.0000000Z_0"));
    expect(third).toBe(uuidV5(ns, "abc_2024-01-01T00:00:00.0010000Z_2"));
  });

  it("computes RFC UUID v5 (known vector: DNS namespace, www.example.com)", () => {
    const dns = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    expect(uuidV5(dns, "www.example.com")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });
});

describe("custom status", () => {
  it("returns the JSON of the last value set", async () => {
    const response = await run(
      async (ctx) => {
        ctx.setCustomStatus("starting");
        ctx.setCustomStatus({ step: 2 });
        await ctx.createTimer(5);
      },
      [],
      begin(),
    );
    expect(response.customStatus).toBe('{"step":2}');
  });

  it("is absent when never set", async () => {
    const response = await run(async () => 1, [], begin());
    expect(response.customStatus).toBeUndefined();
  });

  it("rejects values JSON cannot carry", async () => {
    let error: unknown;
    await run(
      (ctx) => {
        try {
          ctx.setCustomStatus(10n);
        } catch (err) {
          error = err;
        }
      },
      [],
      begin(),
    );
    expect(DurableTaskError.is(error, "InvalidArgument")).toBe(true);
    expect((error as Error).message).toMatch(/^customStatus:/);
  });
});
