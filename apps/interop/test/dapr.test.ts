// @dapr/durabletask-js 1.0.0, unmodified, against the sidecar (scenarios/dapr.mjs). The SDK has
// no retry policies, no recursive terminate or purge, and no query/list/history/restart/rewind calls
// (protocol.md §5.4), so those scenarios are skipped. It also drops an event that arrives in the
// same work item right after one that completes a waitForExternalEvent (scenarios/dapr.mjs), so
// continue-as-new with saveEvents is skipped too.
import { describeInterop } from "./interop-suite.js";

describeInterop("dapr", [
  "retries",
  "query",
  "management",
  "recursiveTerminate",
  "recursivePurge",
  "continueAsNewEvents",
]);
