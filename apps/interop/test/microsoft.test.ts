// @microsoft/durabletask-js 0.4.0, unmodified, against the sidecar (scenarios/microsoft.mjs).
import { describeInterop } from "./interop-suite.js";

describeInterop("microsoft", []);
