#!/usr/bin/env node
// The official SDK worker of the sidecar chaos test: @microsoft/durabletask-js 0.4.0, unmodified,
// running the chaos orchestration (written with the SDK's generator API) against a sidecar that
// the test kills and restarts. The SDK reconnects by itself (exponential back-off from 1 s, reset
// on every successful connection); this process is never restarted. Prints `ready <pid>` once
// the worker runs; SIGTERM/SIGINT stop it.
//
//   node dist/sdk-worker.js --address 127.0.0.1:<port> --log <file> [--timer-ms 200]
//     [--activity-delay-ms 100]
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  type ActivityContext,
  NoOpLogger,
  type OrchestrationContext,
  TaskHubGrpcWorker,
  whenAll,
} from "@microsoft/durabletask-js";
import {
  appendDurably,
  approvalEvent,
  type ChaosInput,
  type ChaosOutput,
  chaosOrchestrationName,
} from "./chaos-orchestration.js";
import { stopOnSignal } from "./stop-on-signal.js";

const { values } = parseArgs({
  options: {
    address: { type: "string" },
    log: { type: "string" },
    "timer-ms": { type: "string", default: "200" },
    "activity-delay-ms": { type: "string", default: "100" },
  },
});
const { address, log } = values;
if (address === undefined || log === undefined) {
  console.error("usage: sdk-worker --address host:port --log <file> [options]");
  process.exit(2);
}
const timerSeconds = Number(values["timer-ms"]) / 1000;
const activityDelayMs = Number(values["activity-delay-ms"]);

// The SDK runs orchestrators written as async generators. Same log line and pause as the in-process chaos activity (src/chaos-orchestration.ts).
async function record(ctx: ActivityContext, value: string): Promise<string> {
  const line = `${ctx.orchestrationId} ${ctx.taskId} ${value} ${process.pid} ${Date.now()}\n`;
  appendDurably(log as string, line);
  await sleep(Math.floor(Math.random() * activityDelayMs));
  return `${value}:done`;
}

async function* chaosChild(ctx: OrchestrationContext, input: ChaosInput) {
  const one: string = yield ctx.callActivity("Record", `child-1-${input.index}`);
  const two: string = yield ctx.callActivity("Record", `child-2-${input.index}`);
  return [one, two];
}

async function* chaos(ctx: OrchestrationContext, input: ChaosInput) {
  const { index } = input;
  const first: string = yield ctx.callActivity("Record", `first-${index}`);
  yield ctx.createTimer(timerSeconds);
  const children: string[] = yield ctx.callSubOrchestrator("ChaosChild", input, {
    instanceId: `${ctx.instanceId}:child`,
  });
  const approval: string = yield ctx.waitForExternalEvent(approvalEvent);
  const last: string[] = yield whenAll([
    ctx.callActivity("Record", `last-a-${index}`),
    ctx.callActivity("Record", `last-b-${index}`),
  ]);
  const output: ChaosOutput = { index, first, children, approval, last };
  return output;
}

const worker = new TaskHubGrpcWorker({
  hostAddress: address,
  logger: new NoOpLogger(),
  shutdownTimeoutMs: 2000,
});
worker.addNamedActivity("Record", record);
worker.addNamedOrchestrator("ChaosChild", chaosChild);
worker.addNamedOrchestrator(chaosOrchestrationName, chaos);

stopOnSignal(() => worker.stop());
// A completion sent to a sidecar that was just killed fails inside the SDK; it must not end
// this process (the sidecar hands the work out again after the lease runs out).
process.on("unhandledRejection", (error) => console.error("unhandled rejection:", error));

await worker.start();
console.log(`ready ${process.pid}`);
