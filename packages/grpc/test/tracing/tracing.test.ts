// The span tree users see for each orchestration pattern, with a real OpenTelemetry SDK, run
// embedded (in-process worker) and through the sidecar with our gRPC worker.
import type { OrchestrationMetadata } from "@durabletask/api";
import { DurableTaskIdGenerator, type TaskHubClient } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import type { ActivityContext, OrchestrationContext, TaskRegistry } from "@durabletask/task";
import { startEngine } from "@durabletask/testing";
import { SpanKind, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { poll, startGrpcEngine, waitMs } from "../client/grpc-harness.js";
import {
  childrenOf,
  inCallerSpan,
  isError,
  labels,
  only,
  parentId,
  recordSpans,
  type SpanRecorder,
  spanId,
  spansOf,
} from "./span-tree.js";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

type Client = Pick<
  TaskHubClient,
  | "scheduleNewOrchestration"
  | "waitForOrchestrationCompletion"
  | "waitForOrchestrationStart"
  | "raiseEvent"
  | "suspendOrchestration"
  | "resumeOrchestration"
>;

interface Running {
  readonly client: Client;
  stop(): Promise<void>;
}

const modes: Record<string, (register: (r: TaskRegistry) => void) => Promise<Running>> = {
  embedded: async (register) =>
    startEngine(() => createSqliteBackend({ path: ":memory:" }), register),
  "sidecar + gRPC worker": async (register) => startGrpcEngine(register),
};

let recorder: SpanRecorder;
beforeAll(() => {
  recorder = recordSpans(new DurableTaskIdGenerator());
});
afterAll(async () => {
  await recorder.dispose();
});

describe.each(Object.keys(modes))("tracing (%s)", (mode) => {
  let running: Running | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  async function start(register: (r: TaskRegistry) => void): Promise<Client> {
    const start = modes[mode] as (typeof modes)[string];
    running = await start(register);
    return running.client;
  }

  /**
   * Schedules `name` inside a caller span, waits for the end, and returns the trace once the
   * `count` orchestration spans (default 1) were exported.
   */
  async function runTraced(
    client: Client,
    name: string,
    input?: unknown,
    during?: (instanceId: string) => Promise<void>,
    count = 1,
  ) {
    const { result: instanceId, span: caller } = await inCallerSpan(() =>
      client.scheduleNewOrchestration(name, { input }),
    );
    if (during !== undefined) await during(instanceId);
    const metadata: OrchestrationMetadata = await client.waitForOrchestrationCompletion(
      instanceId,
      { timeoutMs: waitMs },
    );
    const traceId = caller.spanContext().traceId;
    const orchestrationSpans = () =>
      spansOf(recorder.exporter, traceId).filter((s) => s.name.startsWith("orchestration||"));
    await poll(() => orchestrationSpans().length >= count, "orchestration spans");
    const spans = spansOf(recorder.exporter, traceId);
    const create = only(spans, `create_orchestration||${name}`);
    expect(parentId(create)).toBe(spanId(caller));
    expect(create.kind).toBe(SpanKind.CLIENT);
    return { spans, metadata, instanceId, create };
  }

  function expectOrchestrationSpan(
    span: ReadableSpan,
    name: string,
    instanceId: string,
    status: string,
  ) {
    expect(span.name).toBe(`orchestration||${name}`);
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.attributes).toMatchObject({
      "durabletask.type": "orchestration",
      "durabletask.task.name": name,
      "durabletask.task.instance_id": instanceId,
      "durabletask.runtime_status": status,
    });
  }

  it("sequence: activities are children of the one orchestration span, user spans nest", async () => {
    const client = await start((r) => {
      r.addActivity("Greet", (_ctx: ActivityContext, city: string) =>
        trace.getTracer("app").startActiveSpan(`lookup ${city}`, (span) => {
          span.end();
          return `Hello, ${city}!`;
        }),
      );
      r.addOrchestrator("Sequence", async (ctx: OrchestrationContext, cities: string[]) => {
        const out: string[] = [];
        for (const city of cities) out.push(await ctx.callActivity<string>("Greet", city));
        return out;
      });
    });
    const { spans, instanceId, create } = await runTraced(client, "Sequence", ["Tokyo", "Oslo"]);
    const orchestration = only(spans, "orchestration||Sequence");
    expect(parentId(orchestration)).toBe(spanId(create));
    expectOrchestrationSpan(orchestration, "Sequence", instanceId, "COMPLETED");
    expect(isError(orchestration)).toBe(false);
    const children = childrenOf(spans, orchestration);
    expect(labels(children)).toEqual(["activity||Greet #0", "activity||Greet #1"]);
    for (const activity of children) {
      expect(activity.kind).toBe(SpanKind.SERVER);
      expect(activity.attributes).toMatchObject({
        "durabletask.type": "activity",
        "durabletask.task.name": "Greet",
        "durabletask.task.instance_id": instanceId,
      });
    }
    expect(labels(childrenOf(spans, children[0] as ReadableSpan))).toEqual(["lookup Tokyo"]);
    expect(labels(childrenOf(spans, children[1] as ReadableSpan))).toEqual(["lookup Oslo"]);
  });

  it("fan-out: every parallel activity is a child of the orchestration span", async () => {
    const client = await start((r) => {
      r.addActivity("Square", (_ctx: ActivityContext, n: number) => n * n);
      r.addOrchestrator("FanOut", async (ctx: OrchestrationContext) => {
        const squares = await ctx.whenAll(
          [1, 2, 3, 4].map((n) => ctx.callActivity<number>("Square", n)),
        );
        return squares.reduce((a, b) => a + b, 0);
      });
    });
    const { spans } = await runTraced(client, "FanOut");
    const orchestration = only(spans, "orchestration||FanOut");
    const children = childrenOf(spans, orchestration);
    expect(children.map((s) => s.name)).toEqual(Array(4).fill("activity||Square"));
    expect(children.map((s) => s.attributes["durabletask.task.task_id"]).sort()).toEqual([
      0, 1, 2, 3,
    ]);
  });

  it("retries and failures: activity, timer, activity, timer, activity; errors recorded", async () => {
    const client = await start((r) => {
      r.addActivity("Flaky", () => {
        throw new Error("boom");
      });
      r.addOrchestrator("Retries", (ctx: OrchestrationContext) =>
        ctx.callActivity("Flaky", undefined, {
          retry: { maxAttempts: 3, firstRetryIntervalMs: 10 },
        }),
      );
    });
    const { spans, instanceId, metadata } = await runTraced(client, "Retries");
    expect(metadata.runtimeStatus).toBe("FAILED");
    const orchestration = only(spans, "orchestration||Retries");
    expectOrchestrationSpan(orchestration, "Retries", instanceId, "FAILED");
    expect(isError(orchestration)).toBe(true);
    expect(orchestration.status.message).toContain("boom");
    const children = childrenOf(spans, orchestration);
    expect(labels(children)).toEqual([
      "activity||Flaky #0",
      "timer #1",
      "activity||Flaky #2",
      "timer #3",
      "activity||Flaky #4",
    ]);
    for (const activity of children.filter((s) => s.name === "activity||Flaky")) {
      expect(isError(activity)).toBe(true);
      expect(activity.status.message).toContain("boom");
    }
    const timer = children[1] as ReadableSpan;
    expect(timer.kind).toBe(SpanKind.INTERNAL);
    expect(timer.attributes["durabletask.type"]).toBe("timer");
    expect(timer.attributes["durabletask.task.instance_id"]).toBe(instanceId);
    expect(Date.parse(String(timer.attributes["durabletask.fire_at"]))).not.toBeNaN();
  });

  it("failure: an orchestration that throws ends its span with ERROR and the message", async () => {
    const client = await start((r) => {
      r.addOrchestrator("Broken", () => {
        throw new Error("no inventory");
      });
    });
    const { spans, instanceId } = await runTraced(client, "Broken");
    const orchestration = only(spans, "orchestration||Broken");
    expectOrchestrationSpan(orchestration, "Broken", instanceId, "FAILED");
    expect(isError(orchestration)).toBe(true);
    expect(orchestration.status.message).toContain("no inventory");
  });

  it("sub-orchestrations: the child's orchestration span is a child of the parent's", async () => {
    const client = await start((r) => {
      r.addActivity("Double", (_ctx: ActivityContext, n: number) => n * 2);
      r.addOrchestrator("Child", (ctx: OrchestrationContext, n: number) =>
        ctx.callActivity<number>("Double", n),
      );
      r.addOrchestrator("Parent", (ctx: OrchestrationContext) =>
        ctx.callSubOrchestrator<number>("Child", 21),
      );
    });
    const { spans, create } = await runTraced(client, "Parent", undefined, undefined, 2);
    const parent = only(spans, "orchestration||Parent");
    const child = only(spans, "orchestration||Child");
    expect(parentId(parent)).toBe(spanId(create));
    expect(labels(childrenOf(spans, parent))).toEqual(["orchestration||Child"]);
    expect(labels(childrenOf(spans, child))).toEqual(["activity||Double #0"]);
    expect(child.attributes["durabletask.runtime_status"]).toBe("COMPLETED");
  });

  it("continue-as-new: one orchestration span per generation, each with its own work", async () => {
    const client = await start((r) => {
      r.addActivity("Step", (_ctx: ActivityContext, n: number) => n);
      r.addOrchestrator("Counter", async (ctx: OrchestrationContext, n: number) => {
        // Even generations wait for an activity (they span episodes); odd ones continue at
        // once (several generations end in one episode).
        if (n % 2 === 0) await ctx.callActivity("Step", n);
        if (n < 3) ctx.continueAsNew(n + 1);
        return n;
      });
    });
    const { spans, create } = await runTraced(client, "Counter", 0, undefined, 4);
    const generations = childrenOf(spans, create);
    expect(labels(generations)).toEqual(Array(4).fill("orchestration||Counter"));
    expect(generations.map((s) => s.attributes["durabletask.runtime_status"])).toEqual([
      "CONTINUED_AS_NEW",
      "CONTINUED_AS_NEW",
      "CONTINUED_AS_NEW",
      "COMPLETED",
    ]);
    expect(new Set(generations.map(spanId)).size).toBe(4);
    expect(generations.map((g) => labels(childrenOf(spans, g)))).toEqual([
      ["activity||Step #0"],
      [],
      ["activity||Step #0"],
      [],
    ]);
  });

  it("external events and suspend/resume are span events of the orchestration span", async () => {
    const client = await start((r) => {
      r.addOrchestrator("Approval", (ctx: OrchestrationContext) =>
        ctx.waitForExternalEvent<{ ok: boolean }>("Approved"),
      );
    });
    const { spans } = await runTraced(client, "Approval", undefined, async (id) => {
      await client.waitForOrchestrationStart(id, { timeoutMs: waitMs });
      await client.suspendOrchestration(id, "waiting for audit");
      await client.resumeOrchestration(id, "audit done");
      await client.raiseEvent(id, "Approved", { ok: true });
    });
    const orchestration = only(spans, "orchestration||Approval");
    expect(orchestration.events.map((e) => [e.name, e.attributes])).toEqual([
      ["Execution suspended", { reason: "waiting for audit" }],
      ["Execution resumed", { reason: "audit done" }],
      ["Received external event", { name: "Approved", size: '{"ok":true}'.length }],
    ]);
  });
});
