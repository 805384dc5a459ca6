#!/usr/bin/env node
// The process the chaos test kills: a worker on a SQLite file that runs the chaos orchestrations
// until it is killed (SIGKILL) or asked to stop (SIGTERM/SIGINT: drain, then exit 0). It
// schedules nothing; the test schedules through its own client on the same file. It prints
// `ready <pid>` on stdout once the worker runs.
//
//   node dist/crash-worker.js --db <file> --log <file> [--lock-timeout-ms 1000]
//     [--max-activities 10] [--activity-delay-ms 100] [--timer-ms 200]
import { parseArgs } from "node:util";
import { createTaskHubWorker } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import { createTaskExecutor, createTaskRegistry } from "@durabletask/task";
import { registerChaos } from "./chaos-orchestration.js";
import { stderrLogger as logger } from "./stderr-logger.js";

const { values } = parseArgs({
  options: {
    db: { type: "string" },
    log: { type: "string" },
    "lock-timeout-ms": { type: "string", default: "1000" },
    "max-activities": { type: "string", default: "10" },
    "activity-delay-ms": { type: "string", default: "100" },
    "timer-ms": { type: "string", default: "200" },
  },
});
if (values.db === undefined || values.log === undefined) {
  console.error("usage: crash-worker --db <file> --log <file> [options]");
  process.exit(2);
}

const lockTimeoutMs = Number(values["lock-timeout-ms"]);
const backend = createSqliteBackend({
  path: values.db,
  orchestrationLockTimeoutMs: lockTimeoutMs,
  activityLockTimeoutMs: lockTimeoutMs,
  logger,
});
const registry = createTaskRegistry();
registerChaos(registry, {
  logPath: values.log,
  activityDelayMs: Number(values["activity-delay-ms"]),
  timerMs: Number(values["timer-ms"]),
});
const worker = createTaskHubWorker({
  backend,
  executor: createTaskExecutor({ registry, logger }),
  logger,
  maxConcurrentActivities: Number(values["max-activities"]),
  // The test's client writes from another process; poll often so the worker sees it quickly.
  maxPollIntervalMs: 100,
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await worker.stop();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());

await worker.start();
console.log(`ready ${process.pid}`);
