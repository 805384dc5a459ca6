#!/usr/bin/env node
// The sidecar the SDK chaos test kills: the gRPC sidecar server (the one apps/sidecar serves) on a
// SQLite file, with short leases so that a restarted sidecar takes over within about a second,
// and a bounded number of activities handed out at once, so that the re-executions a kill can
// cause are bounded. Prints `ready <pid> <port>` once it accepts calls and `worker connected`
// whenever an SDK worker opens its work item stream; SIGTERM/SIGINT drain.
//
//   node dist/sidecar-process.js --db <file> [--port 0] [--lock-timeout-ms 1000]
//     [--max-activities 10]
import { parseArgs } from "node:util";
import type { Logger } from "@durabletask/api";
import { createSidecarServer } from "@durabletask/grpc";
import { createSqliteBackend } from "@durabletask/sqlite";
import { stderrLogger } from "./stderr-logger.js";
import { stopOnSignal } from "./stop-on-signal.js";

const { values } = parseArgs({
  options: {
    db: { type: "string" },
    port: { type: "string", default: "0" },
    "lock-timeout-ms": { type: "string", default: "1000" },
    "max-activities": { type: "string", default: "10" },
  },
});
if (values.db === undefined) {
  console.error("usage: sidecar-process --db <file> [options]");
  process.exit(2);
}

const logger: Logger = {
  ...stderrLogger,
  info: (message) => {
    if (message === "work item stream connected") console.log("worker connected");
  },
};
const lockTimeoutMs = Number(values["lock-timeout-ms"]);
const server = await createSidecarServer({
  // The sidecar's own default: FULL, an fsync per commit.
  backend: createSqliteBackend({
    path: values.db,
    orchestrationLockTimeoutMs: lockTimeoutMs,
    activityLockTimeoutMs: lockTimeoutMs,
    logger,
  }),
  logger,
  host: "127.0.0.1",
  port: Number(values.port),
  maxConcurrentActivities: Number(values["max-activities"]),
  drainTimeoutMs: 2000,
});

stopOnSignal(() => server.stop());
console.log(`ready ${process.pid} ${server.port}`);
