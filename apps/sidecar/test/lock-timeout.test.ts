// --lock-timeout-ms as an operator relies on it: work a killed sidecar had handed out is taken
// over by the restarted sidecar once the lease runs out, not after the 30 s default.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createTaskHubGrpcClient,
  createTaskHubGrpcWorker,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from "@durabletask/grpc";
import { createTaskRegistry, type OrchestrationContext } from "@durabletask/task";
import { afterEach, describe, expect, it, vi } from "vitest";
import { killAll, startCli } from "./cli-process.js";

vi.setConfig({ testTimeout: 60_000 });

describe("--lock-timeout-ms", () => {
  const workers: TaskHubGrpcWorker[] = [];
  const clients: TaskHubGrpcClient[] = [];
  let dir: string | undefined;
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    for (const c of clients.splice(0)) c.close();
    await killAll();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function connect(
    port: number,
    activity: (input: string) => Promise<string>,
    drainTimeoutMs?: number,
  ) {
    const address = `127.0.0.1:${port}`;
    const registry = createTaskRegistry();
    registry.addActivity("Step", (_ctx, input: string) => activity(input));
    registry.addOrchestrator("OneStep", async (ctx: OrchestrationContext, input: string) =>
      ctx.callActivity("Step", input),
    );
    const worker = createTaskHubGrpcWorker({ address, registry, drainTimeoutMs });
    const client = createTaskHubGrpcClient({ address });
    workers.push(worker);
    clients.push(client);
    return { worker, client };
  }

  it("a killed sidecar's leased activity runs again after the lock timeout, well before 30 s", async () => {
    dir = mkdtempSync(join(tmpdir(), "durabletask-lock-timeout-"));
    const args = ["--host", "127.0.0.1", "--port", "0", "--db", join(dir, "hub.sqlite3")];
    const first = startCli([...args, "--lock-timeout-ms", "1000"]);
    let started: () => void = () => {};
    const activityStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    // The first worker takes the activity and never finishes it.
    const a = connect(
      await first.listening(),
      () => {
        started();
        return new Promise<string>(() => {});
      },
      0,
    );
    await a.worker.start();
    const id = await a.client.scheduleNewOrchestration("OneStep", { input: "x" });
    await activityStarted;
    first.child.kill("SIGKILL");
    await first.exited;
    await a.worker.stop();

    const second = startCli([...args, "--lock-timeout-ms", "1000"]);
    const b = connect(await second.listening(), async (input) => `done ${input}`);
    await b.worker.start();
    const done = await b.client.waitForOrchestrationCompletion(id, { timeoutMs: 15_000 });
    expect(done.runtimeStatus).toBe("COMPLETED");
    expect(done.serializedOutput).toBe(JSON.stringify("done x"));
  });
});
