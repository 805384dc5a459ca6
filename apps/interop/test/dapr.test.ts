// @dapr/durabletask-js 1.0.0, unmodified, against the sidecar (scenarios/dapr.mjs). The SDK has
// no retry policies, no recursive terminate or purge, and no query/list/history/restart/rewind calls
// (protocol.md §5.4), so those scenarios are skipped.
import { describeInterop } from "./interop-suite.js";

describeInterop("dapr", ["retries", "query", "management", "recursiveTerminate", "recursivePurge"]);
