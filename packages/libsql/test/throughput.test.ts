import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backend } from "@durabletask/backend";
import type { ActivityContext, OrchestrationContext, TaskRegistry } from "@durabletask/task";
import { startEngine } from "@durabletask/testing";
import { afterAll, describe, expect, it } from "vitest";
import { createLibsqlBackend } from "../src/index.js";
import { type HranaServer, hranaServers } from "./hrana-servers.js";

// A quick W1-like measurement (n orchestrations of three sequential activities, scheduled at
// once), not part of the regular run: DURABLETASK_LIBSQL_MEASURE=1 vitest run test/throughput.
const measuring = process.env.DURABLETASK_LIBSQL_MEASURE === "1";
const n = Number(process.env.DURABLETASK_LIBSQL_MEASURE_N ?? 200);
const dir = mkdtempSync(join(tmpdir(), "durabletask-libsql-w1-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const startServer = hranaServers();

function register(r: TaskRegistry): void {
  r.addOrchestrator("ThreeSteps", async (ctx: OrchestrationContext, input: string) => {
    const a = await ctx.callActivity<string>("Step", input);
    const b = await ctx.callActivity<string>("Step", a);
    return ctx.callActivity<string>("Step", b);
  }).addActivity("Step", async (_ctx: ActivityContext, value: string) => `${value}+`);
}

async function w1(backend: Backend, server?: HranaServer) {
  const engine = await startEngine(() => backend, register, { backend });
  try {
    const ids = Array.from({ length: n }, (_, i) => `w1-${i}`);
    server?.stats.reset();
    const startedAt = performance.now();
    await Promise.all(
      ids.map((instanceId) =>
        engine.client.scheduleNewOrchestration("ThreeSteps", { instanceId, input: instanceId }),
      ),
    );
    // Like the bench's default wait: one reader polls every 10 ms (its requests not counted).
    let polls = 0;
    for (;;) {
      polls++;
      const page = await backend.listInstanceIds({ statuses: ["COMPLETED"], pageSize: 1000 });
      if (page.instanceIds.length === n) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const elapsedMs = performance.now() - startedAt;
    const requests =
      server === undefined ? undefined : `${server.stats.httpRequests - polls} (+ ${polls} polls)`;
    const page = await backend.queryInstances({ pageSize: 1000 });
    expect(
      page.instances.filter((m) => m.serializedOutput === JSON.stringify(`${m.instanceId}+++`)),
    ).toHaveLength(n);
    return {
      orchestrationsPerS: Math.round((n * 1000) / elapsedMs),
      requestsPerOrchestration: requests,
    };
  } finally {
    await engine.stop();
    await backend.stop();
  }
}

describe.skipIf(!measuring)("W1-like throughput", { timeout: 600_000 }, () => {
  it("file:", async () => {
    const figures = await w1(createLibsqlBackend({ url: `file:${join(dir, "w1.db")}` }));
    console.log(`file: n=${n}`, figures);
  });

  for (const latencyMs of [0, 20]) {
    it(`http:// with ${latencyMs} ms latency`, async () => {
      const server = await startServer();
      server.setLatencyMs(latencyMs);
      const figures = await w1(createLibsqlBackend({ url: server.httpUrl }), server);
      console.log(`http ${latencyMs} ms n=${n}`, figures);
    });
  }
});
