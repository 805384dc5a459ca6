#!/usr/bin/env node
// Workload child of the `sidecar-grpc-worker` mode: our createTaskHubGrpcWorker and
// createTaskHubGrpcClient against the sidecar, running the same workload code as the embedded
// modes. Started by the benchmark (see workload-child.ts); not meant to be run by hand.
import { createTaskHubGrpcClient, createTaskHubGrpcWorker } from "@durabletask/grpc";
import { createTaskRegistry } from "@durabletask/task";
import { type ChildEngine, type ChildOptions, runWorkloadChild } from "./workload-child.js";

async function connect(options: ChildOptions): Promise<ChildEngine> {
  const registry = createTaskRegistry();
  options.workload.register(registry);
  const worker = createTaskHubGrpcWorker({
    address: options.address,
    registry,
    maxConcurrentOrchestrations: options.concurrency,
    maxConcurrentActivities: options.concurrency,
  });
  await worker.start();
  const client = createTaskHubGrpcClient({ address: options.address });
  return {
    client,
    async stop() {
      await worker.stop();
      client.close();
    },
  };
}

runWorkloadChild(connect);
