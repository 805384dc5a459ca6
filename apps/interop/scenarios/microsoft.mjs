// Scenario program for @microsoft/durabletask-js 0.4.0 (unmodified). Usage:
//   node microsoft.mjs --address host:port --group all|restart-a|restart-b|sidecar-restart
//     [--ids a,b] [--run id] [--only scenario,…]
import {
  NoOpLogger,
  OrchestrationStatus,
  PurgeInstanceCriteria,
  RetryPolicy,
  TaskHubGrpcClient,
  TaskHubGrpcWorker,
  terminateOptions,
  whenAll,
  whenAny,
} from "@microsoft/durabletask-js";
import { runMain } from "./common.mjs";
import { runProgram } from "./suite.mjs";

const sdk = {
  name: "microsoft",
  features: { retries: true, query: true, recursiveTerminate: true, recursivePurge: true },
  status: OrchestrationStatus,
  statusName: (value) => OrchestrationStatus[value] ?? `UNKNOWN(${value})`,
  whenAll,
  whenAny,
  callSubOrchestrator: (ctx, name, input, instanceId) =>
    ctx.callSubOrchestrator(name, input, { instanceId }),
  callActivityWithRetry: (ctx, name, input, retry) =>
    ctx.callActivity(name, input, { retry: new RetryPolicy(retry) }),
  schedule: (client, name, input, { instanceId, startAt }) =>
    client.scheduleNewOrchestration(name, input, { instanceId, startAt }),
  terminate: (client, instanceId, output, { recursive }) =>
    client.terminateOrchestration(instanceId, terminateOptions({ output, recursive })),
  // setCustomStatus takes any value and stores it as JSON.
  customStatus: (value) => value,
  purgeCriteria(from, to, statuses) {
    const criteria = new PurgeInstanceCriteria();
    criteria.setCreatedTimeFrom(from);
    criteria.setCreatedTimeTo(to);
    criteria.setRuntimeStatusList(statuses);
    return criteria;
  },
};

runMain(() =>
  runProgram(sdk, {
    unsupported: [],
    newWorker: (hostAddress) =>
      new TaskHubGrpcWorker({ hostAddress, logger: new NoOpLogger(), shutdownTimeoutMs: 2000 }),
    newClient: (hostAddress) => new TaskHubGrpcClient({ hostAddress, logger: new NoOpLogger() }),
  }),
);
