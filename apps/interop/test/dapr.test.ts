// @dapr/durabletask-js 1.0.0, unmodified, against the sidecar (scenarios/dapr.mjs), except the
// scenarios it cannot run (daprGaps).
import { daprGaps, describeInterop } from "./interop-suite.js";

describeInterop("dapr", daprGaps);
