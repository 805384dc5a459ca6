import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chaosScale, runChaos } from "./chaos-run.js";
import { startWorker, type WorkerProcess } from "./worker-process.js";

// CHAOS_LONG=1: 2000 orchestrations and 20 kills (minutes). CHAOS_SEED=<n> replays a kill plan.
const scale = chaosScale({ orchestrations: 50, kills: 5 });
const { long, orchestrations, kills, seed } = scale;
const maxActivities = 10;
const lockTimeoutMs = 1000;

describe("crash recovery of a SQLite worker process", () => {
  const dir = mkdtempSync(join(tmpdir(), "durabletask-chaos-"));
  const dbPath = join(dir, "chaos.sqlite3");
  const logPath = join(dir, "activities.log");
  const workerArgs = ["--db", dbPath, "--log", logPath];
  workerArgs.push("--lock-timeout-ms", `${lockTimeoutMs}`, "--max-activities", `${maxActivities}`);
  let worker: WorkerProcess | undefined;

  afterAll(async () => {
    await worker?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`completes ${orchestrations} orchestrations exactly once across ${kills} SIGKILLs of the worker`, {
    timeout: long ? 900_000 : 90_000,
  }, async () => {
    const stats = await runChaos({
      ...scale,
      dbPath,
      logPath,
      waitMs: long ? 600_000 : 45_000,
      start: async () => {
        worker = await startWorker(workerArgs);
        return worker;
      },
      finish: async () => {
        expect(await worker?.stop()).toBe(0);
      },
    });
    console.log(
      `chaos seed=${seed}: ${orchestrations} orchestrations, ${kills} kills ` +
        `(completed/logged at each kill: ${stats.atKills.join(" ")}), ${stats.calls} activity calls, ` +
        `${stats.executions} executions, ${stats.reexecuted} re-executed, ${stats.seconds} s`,
    );
    // Each kill can lose at most the activities in flight in the killed worker.
    expect(stats.reexecuted).toBeLessThanOrEqual(kills * maxActivities);
  });
});
