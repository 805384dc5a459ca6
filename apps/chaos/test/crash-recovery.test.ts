import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Backend, createTaskHubClient } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { createRandom, killRepeatedly, verifyChaos, waitForAll } from "./chaos-run.js";
import { startWorker, type WorkerProcess } from "./worker-process.js";

// CHAOS_LONG=1: 2000 orchestrations and 20 kills (minutes). CHAOS_SEED=<n> replays a kill plan.
const long = process.env.CHAOS_LONG === "1";
const orchestrations = long ? 2000 : 50;
const kills = long ? 20 : 5;
const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 1e9));
const maxActivities = 10;
const lockTimeoutMs = 1000;

describe("crash recovery of a SQLite worker process", () => {
  const dir = mkdtempSync(join(tmpdir(), "durabletask-chaos-"));
  const dbPath = join(dir, "chaos.sqlite3");
  const logPath = join(dir, "activities.log");
  const workerArgs = ["--db", dbPath, "--log", logPath];
  workerArgs.push("--lock-timeout-ms", `${lockTimeoutMs}`, "--max-activities", `${maxActivities}`);
  let worker: WorkerProcess | undefined;
  let backend: Backend | undefined;

  afterAll(async () => {
    await worker?.kill();
    await backend?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`completes ${orchestrations} orchestrations exactly once across ${kills} SIGKILLs of the worker`, {
    timeout: long ? 900_000 : 90_000,
  }, async () => {
    const startedAt = Date.now();
    backend = createSqliteBackend({ path: dbPath });
    await backend.start();
    const client = createTaskHubClient({ backend });
    const atKills = await killRepeatedly({
      client,
      random: createRandom(seed),
      logPath,
      orchestrations,
      kills,
      start: async () => {
        worker = await startWorker(workerArgs);
        return worker;
      },
    });
    await waitForAll(client, orchestrations, long ? 600_000 : 45_000);
    expect(await worker?.stop()).toBe(0);

    const stats = await verifyChaos(client, logPath, orchestrations);
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    console.log(
      `chaos seed=${seed}: ${orchestrations} orchestrations, ${kills} kills ` +
        `(completed/logged at each kill: ${atKills.join(" ")}), ${stats.calls} activity calls, ` +
        `${stats.executions} executions, ${stats.reexecuted} re-executed, ${seconds} s`,
    );
    // Each kill can lose at most the activities in flight in the killed worker.
    expect(stats.reexecuted).toBeLessThanOrEqual(kills * maxActivities);
  });
});
