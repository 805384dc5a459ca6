#!/usr/bin/env node
// The sidecar CLI: `durabletask-sidecar [--host h] [--port p] [--db file] …` (see flags.ts).
// This file only reads the command line and handles signals; createSidecar() does the work.
import { readFileSync } from "node:fs";
import { parseCommand, usage } from "./flags.js";
import { routeGrpcLogs } from "./grpc-logs.js";
import { createLogger } from "./logger.js";
import { createSidecar, type Sidecar } from "./sidecar.js";
import { startTelemetry, type Telemetry } from "./telemetry.js";
import { UsageError } from "./usage-error.js";

const usageExit = 2;

function version(): string {
  const json = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  return (JSON.parse(json) as { version: string }).version;
}

function fail(error: unknown): never {
  console.error(`durabletask-sidecar: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(error instanceof UsageError ? usageExit : 1);
}

let command: ReturnType<typeof parseCommand>;
try {
  command = parseCommand(process.argv.slice(2), process.env);
} catch (error) {
  fail(error);
}
if (command.kind === "help") {
  console.log(usage());
  process.exit(0);
}
if (command.kind === "version") {
  console.log(version());
  process.exit(0);
}

const { options } = command;
const logger = createLogger({ level: options.logLevel, format: options.logFormat });
routeGrpcLogs(logger);
let sidecar: Sidecar | undefined;
let stopping = false;

// First SIGINT/SIGTERM: drain in-flight work, then exit 0. A second one: exit at once with 1.
function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    logger.warn(`received ${signal} again: exiting without draining`);
    process.exit(1);
  }
  stopping = true;
  logger.info(`received ${signal}: draining in-flight work (send it again to exit at once)`);
  // Still starting: the code after createSidecar() stops it.
  sidecar?.stop().then(
    // Spans and metrics of the drained work are flushed before exiting.
    () => telemetry?.shutdown().then(() => process.exit(0)) ?? process.exit(0),
    (error: unknown) => {
      logger.error("failed to stop cleanly", { error });
      process.exit(1);
    },
  );
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

let telemetry: Telemetry | undefined;
try {
  // Before the sidecar, so its worker's instruments use the registered meter provider.
  telemetry = await startTelemetry(process.env, logger);
  sidecar = await createSidecar({ ...options, logger });
} catch (error) {
  if (!(error instanceof UsageError)) logger.error("failed to start", { error });
  fail(error);
}
if (stopping) {
  await sidecar.stop();
  await telemetry?.shutdown();
  process.exit(0);
}
