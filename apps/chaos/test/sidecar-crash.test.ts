import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Backend, createTaskHubClient } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { createRandom, killRepeatedly, verifyChaos, waitForAll } from "./chaos-run.js";
import { distProgram, startProgram, type WorkerProcess, waitForOutput } from "./worker-process.js";

// CHAOS_LONG=1: 2000 orchestrations and 20 kills (minutes). CHAOS_SEED=<n> replays a kill plan.
const long = process.env.CHAOS_LONG === "1";
const orchestrations = long ? 2000 : 20;
const kills = long ? 20 : 3;
const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 1e9));
const maxActivities = 10;

describe("crash recovery of the sidecar under the official SDK worker", () => {
  const dir = mkdtempSync(join(tmpdir(), "durabletask-sidecar-chaos-"));
  const dbPath = join(dir, "chaos.sqlite3");
  const logPath = join(dir, "activities.log");
  let sidecar: WorkerProcess | undefined;
  let sdkWorker: WorkerProcess | undefined;
  let backend: Backend | undefined;

  afterAll(async () => {
    await sdkWorker?.kill();
    await sidecar?.kill();
    await backend?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Starts the sidecar (on the port of the first one) and, the first time, the SDK worker; returns
   * once the SDK worker is connected, so that every kill lands while it works.
   */
  async function startSidecar(): Promise<WorkerProcess> {
    const port = sidecar === undefined ? "0" : (sidecar.readyLine.split(" ")[2] ?? "0");
    sidecar = await startProgram(distProgram("sidecar-process"), [
      ...["--db", dbPath, "--port", port, "--max-activities", `${maxActivities}`],
    ]);
    // The SDK gives up for good if its first connection fails: start it once a sidecar runs.
    sdkWorker ??= await startProgram(distProgram("sdk-worker"), [
      ...["--address", `127.0.0.1:${sidecar.readyLine.split(" ")[2]}`, "--log", logPath],
    ]);
    await waitForOutput(sidecar, "worker connected", 1, 30_000);
    return sidecar;
  }

  it(`completes ${orchestrations} orchestrations exactly once across ${kills} SIGKILLs of the sidecar`, {
    timeout: long ? 1_800_000 : 120_000,
  }, async () => {
    const startedAt = Date.now();
    // The test's client writes to the same file; the sidecar finds the work by polling.
    backend = createSqliteBackend({ path: dbPath });
    await backend.start();
    const client = createTaskHubClient({ backend });
    const atKills = await killRepeatedly({
      client,
      random: createRandom(seed),
      logPath,
      orchestrations,
      kills,
      start: startSidecar,
    });
    await waitForAll(client, orchestrations, long ? 1_200_000 : 60_000);
    const worker = sdkWorker;
    const sdkPid = worker?.pid;
    expect(await worker?.stop(), worker?.stderr()).toBe(0);
    expect(await sidecar?.stop(), sidecar?.stderr()).toBe(0);

    const stats = await verifyChaos(client, logPath, orchestrations);
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    console.log(
      `sidecar chaos seed=${seed}: ${orchestrations} orchestrations, ${kills} sidecar kills ` +
        `(completed/logged at each kill: ${atKills.join(" ")}), one SDK worker (pid ${sdkPid}) ` +
        `throughout, ${stats.calls} activity calls, ${stats.executions} executions, ` +
        `${stats.reexecuted} re-executed (bound ${kills * maxActivities}), ` +
        `at most ${stats.maxPerCall} per call, ${seconds} s`,
    );
    // A kill can only lose the activities the sidecar had handed out (at most maxActivities).
    expect(stats.reexecuted).toBeLessThanOrEqual(kills * maxActivities);
  });
});
