#!/usr/bin/env node
// The process the chaos and multi-process tests run (and kill): a worker on a SQLite file, or on
// a libSQL database, that runs the chaos orchestrations until it is killed (SIGKILL) or asked to
// stop (SIGTERM/SIGINT: drain, print `stats {…}` — its committed episodes and activity results,
// and commits refused for a lost lease — then exit 0). It schedules nothing; the tests schedule
// through their own client on the same database. It prints `ready <pid>` once the worker runs.
//
//   node dist/crash-worker.js (--db <file> | --libsql-url <url>) --log <file>
//     [--lock-timeout-ms 1000] [--max-activities 10] [--activity-delay-ms 100] [--timer-ms 200]
//     [--stall-after <n>]  (activities after the n-th log their line, then hang: a stuck worker)
//     [--block-first-ms <ms>]  (the first activity blocks the event loop that long: stuck too)
import { parseArgs } from "node:util";
import { DurableTaskError } from "@durabletask/api";
import { type Backend, createTaskHubWorker } from "@durabletask/backend";
import { createLibsqlBackend } from "@durabletask/libsql";
import { createSqliteBackend } from "@durabletask/sqlite";
import { createTaskExecutor, createTaskRegistry } from "@durabletask/task";
import { withOverrides } from "./backend-proxy.js";
import { registerChaos } from "./chaos-orchestration.js";
import { stderrLogger as logger } from "./stderr-logger.js";
import { stopOnSignal } from "./stop-on-signal.js";

const { values } = parseArgs({
  options: {
    db: { type: "string" },
    "libsql-url": { type: "string" },
    log: { type: "string" },
    "lock-timeout-ms": { type: "string", default: "1000" },
    "max-activities": { type: "string", default: "10" },
    "activity-delay-ms": { type: "string", default: "100" },
    "timer-ms": { type: "string", default: "200" },
    "stall-after": { type: "string" },
    "block-first-ms": { type: "string", default: "0" },
  },
});
if ((values.db === undefined) === (values["libsql-url"] === undefined) || !values.log) {
  console.error("usage: crash-worker (--db <file> | --libsql-url <url>) --log <file> [options]");
  process.exit(2);
}

const lockTimeoutMs = Number(values["lock-timeout-ms"]);
const leases = {
  orchestrationLockTimeoutMs: lockTimeoutMs,
  activityLockTimeoutMs: lockTimeoutMs,
  workerName: `crash-worker-${process.pid}`,
  logger,
};
const store: Backend =
  values.db !== undefined
    ? createSqliteBackend({ path: values.db, ...leases })
    : createLibsqlBackend({ url: values["libsql-url"] ?? "", ...leases });

/** What this process committed, and how many of its commits a lost lease refused. */
const stats = { episodes: 0, activities: 0, lockLost: 0 };
async function counted(commit: Promise<void>, kind: "episodes" | "activities"): Promise<void> {
  try {
    await commit;
    stats[kind]++;
  } catch (error) {
    if (DurableTaskError.is(error, "WorkItemLockLost")) stats.lockLost++;
    throw error;
  }
}
const fused = store.completeActivityWithEpisode;
const backend = withOverrides(store, {
  completeOrchestrationWorkItem: (item, commit) =>
    counted(store.completeOrchestrationWorkItem(item, commit), "episodes"),
  completeActivityWorkItem: (item, result) =>
    counted(store.completeActivityWorkItem(item, result), "activities"),
  // A result committed with the episode it starts counts as both; one delivered alone as a result.
  ...(fused === undefined
    ? {}
    : {
        completeActivityWithEpisode: async (item, result, runEpisode) => {
          const applied = fused.call(store, item, result, runEpisode);
          await counted(
            applied.then(() => {}),
            "activities",
          );
          if (await applied) stats.episodes++;
          return applied;
        },
      }),
});

const registry = createTaskRegistry();
registerChaos(registry, {
  logPath: values.log,
  activityDelayMs: Number(values["activity-delay-ms"]),
  timerMs: Number(values["timer-ms"]),
  stallAfter: values["stall-after"] === undefined ? undefined : Number(values["stall-after"]),
  blockFirstMs: Number(values["block-first-ms"]),
});
const worker = createTaskHubWorker({
  backend,
  executor: createTaskExecutor({ registry, logger }),
  logger,
  maxConcurrentActivities: Number(values["max-activities"]),
  // The test's client writes from another process; poll often so the worker sees it quickly.
  maxPollIntervalMs: 100,
});

stopOnSignal(async () => {
  await worker.stop();
  console.log(`stats ${JSON.stringify(stats)}`);
});

await worker.start();
console.log(`ready ${process.pid}`);
