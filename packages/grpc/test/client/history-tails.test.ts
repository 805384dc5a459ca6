// Our gRPC worker keeps histories so that our sidecar sends long histories' episodes as tails
// (src/history-tails.ts); a worker that cannot keep them asks for them whole and still gets the
// right results.
import { createTaskRegistry, type OrchestrationContext } from "@durabletask/task";
import { afterEach, expect, it, vi } from "vitest";
import { createTaskHubGrpcWorker } from "../../src/index.js";
import { type GrpcEngine, recordingLogger, startGrpcEngine, waitMs } from "./grpc-harness.js";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

let engine: GrpcEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

const steps = 40;
const asked = "debug: asking the sidecar for a history this worker does not hold";

/** Adds `Count`: `steps` activities in sequence, each adding its step to a running total. */
function registerCount(registry: GrpcEngine["registry"]): void {
  registry.addActivity("Add", (_ctx, [total, step]: [number, number]) => total + step);
  registry.addOrchestrator("Count", async (ctx: OrchestrationContext) => {
    let total = 0;
    for (let step = 1; step <= steps; step++) {
      total = await ctx.callActivity<number>("Add", [total, step]);
    }
    return total;
  });
}

async function runCounts(e: GrpcEngine, instances: number): Promise<unknown[]> {
  const ids = await Promise.all(
    Array.from({ length: instances }, (_, i) =>
      e.client.scheduleNewOrchestration("Count", { instanceId: `count-${i}` }),
    ),
  );
  const done = await Promise.all(
    ids.map((id) => e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs })),
  );
  return done.map((m) =>
    m.runtimeStatus === "COMPLETED" ? JSON.parse(m.serializedOutput ?? "") : m,
  );
}

const expected = (steps * (steps + 1)) / 2;

it("long orchestrations complete with the right results while the worker holds their histories", async () => {
  const logger = recordingLogger();
  engine = await startGrpcEngine(registerCount, { worker: { logger } });
  expect(await runCounts(engine, 3)).toEqual([expected, expected, expected]);
  expect(logger.lines).not.toContain(asked);
});

it("a worker that keeps too few events asks for each history and still gets the right results", async () => {
  const logger = recordingLogger();
  // Each history passes 32 events (sent as tails from then on) and 50 (no longer kept).
  engine = await startGrpcEngine(registerCount, { worker: { logger, heldHistoryEvents: 50 } });
  expect(await runCounts(engine, 2)).toEqual([expected, expected]);
  expect(logger.lines).toContain(asked);
});

it("a worker that keeps no histories is never sent tails", async () => {
  const logger = recordingLogger();
  engine = await startGrpcEngine(registerCount, { worker: { logger, heldHistoryEvents: 0 } });
  expect(await runCounts(engine, 1)).toEqual([expected]);
  expect(logger.lines).not.toContain(asked);
});

it("a bad heldHistoryEvents is InvalidArgument naming the field", () => {
  for (const heldHistoryEvents of [-1, 1.5, "100", 2e9]) {
    expect(() =>
      createTaskHubGrpcWorker({
        address: "127.0.0.1:1",
        registry: createTaskRegistry(),
        heldHistoryEvents: heldHistoryEvents as number,
      }),
    ).toThrow(
      expect.objectContaining({
        code: "InvalidArgument",
        message: expect.stringContaining("heldHistoryEvents"),
      }),
    );
  }
});
