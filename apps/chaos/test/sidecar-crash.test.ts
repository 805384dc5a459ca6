import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chaosScale, runChaos } from "./chaos-run.js";
import { distProgram, startProgram, type WorkerProcess, waitForOutput } from "./worker-process.js";

// CHAOS_LONG=1: 2000 orchestrations and 20 kills (minutes). CHAOS_SEED=<n> replays a kill plan.
const scale = chaosScale({ orchestrations: 20, kills: 3 });
const { long, orchestrations, kills, seed } = scale;
const maxActivities = 10;

describe("crash recovery of the sidecar under the official SDK worker", () => {
  const dir = mkdtempSync(join(tmpdir(), "durabletask-sidecar-chaos-"));
  const dbPath = join(dir, "chaos.sqlite3");
  const logPath = join(dir, "activities.log");
  let sidecar: WorkerProcess | undefined;
  let sdkWorker: WorkerProcess | undefined;

  afterAll(async () => {
    await sdkWorker?.kill();
    await sidecar?.kill();
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
    await waitForOutput(sidecar, "worker connected", 30_000);
    return sidecar;
  }

  it(`completes ${orchestrations} orchestrations exactly once across ${kills} SIGKILLs of the sidecar`, {
    timeout: long ? 1_800_000 : 120_000,
  }, async () => {
    // The test's client writes to the same file; the sidecar finds the work by polling.
    const stats = await runChaos({
      ...scale,
      dbPath,
      logPath,
      waitMs: long ? 1_200_000 : 60_000,
      start: startSidecar,
      finish: async () => {
        expect(await sdkWorker?.stop(), sdkWorker?.stderr()).toBe(0);
        expect(await sidecar?.stop(), sidecar?.stderr()).toBe(0);
      },
    });
    console.log(
      `sidecar chaos seed=${seed}: ${orchestrations} orchestrations, ${kills} sidecar kills ` +
        `(completed/logged at each kill: ${stats.atKills.join(" ")}), one SDK worker ` +
        `(pid ${sdkWorker?.pid}) throughout, ${stats.calls} activity calls, ` +
        `${stats.executions} executions, ${stats.reexecuted} re-executed ` +
        `(bound ${kills * maxActivities}), at most ${stats.maxPerCall} per call, ${stats.seconds} s`,
    );
    // A kill can only lose the activities the sidecar had handed out (at most maxActivities).
    expect(stats.reexecuted).toBeLessThanOrEqual(kills * maxActivities);
  });
});
