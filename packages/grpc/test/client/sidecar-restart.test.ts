import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OrchestrationContext } from "@durabletask/task";
import { createTaskRegistry } from "@durabletask/task";
import { afterEach, expect, it, vi } from "vitest";
import {
  createTaskHubGrpcClient,
  createTaskHubGrpcWorker,
  type SidecarServer,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from "../../src/index.js";
import { poll, recordingLogger, startSidecar } from "./grpc-harness.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

let sidecar: SidecarServer | undefined;
let worker: TaskHubGrpcWorker | undefined;
let client: TaskHubGrpcClient | undefined;
let dir: string | undefined;
afterEach(async () => {
  await worker?.stop();
  client?.close();
  await sidecar?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  worker = client = sidecar = dir = undefined;
});

it("keeps a client wait and a worker alive across a sidecar restart on the same SQLite file", async () => {
  dir = mkdtempSync(join(tmpdir(), "dt-grpc-"));
  const path = join(dir, "hub.sqlite3");
  sidecar = await startSidecar({ path });
  const { port } = sidecar;
  const episodes: string[] = [];
  const registry = createTaskRegistry().addOrchestrator(
    "Survivor",
    async (ctx: OrchestrationContext) => {
      if (!ctx.isReplaying) episodes.push("start");
      await ctx.createTimer(1500);
      if (!ctx.isReplaying) episodes.push("woke");
      return "survived";
    },
  );
  const workerLog = recordingLogger();
  const clientLog = recordingLogger();
  worker = createTaskHubGrpcWorker({
    address: sidecar.address,
    registry,
    logger: workerLog,
    reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
  });
  await worker.start();
  client = createTaskHubGrpcClient({ address: sidecar.address, logger: clientLog });
  const id = await client.scheduleNewOrchestration("Survivor", { instanceId: "survivor" });
  await poll(() => episodes.length === 1, "the first episode");
  const waiting = client.waitForOrchestrationCompletion(id, { timeoutMs: 30_000 });
  await sidecar.stop();
  sidecar = await startSidecar({ path, port });
  const m = await waiting;
  expect(m.runtimeStatus).toBe("COMPLETED");
  expect(m.serializedOutput).toBe('"survived"');
  expect(episodes).toEqual(["start", "woke"]);
  expect(clientLog.lines).toContain(
    "warn: lost the sidecar while waiting for an instance; calling again",
  );
  expect(workerLog.lines.filter((l) => l === "info: connected to the sidecar")).toHaveLength(2);
  expect(workerLog.lines).toContain("warn: work item stream closed; reconnecting");
});
