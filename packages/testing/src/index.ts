export type { BackendFactory, BackendFactoryOptions } from "./backend-factory.js";
export { describeBackendConformance } from "./describe-backend-conformance.js";
export type { EngineHarness, StartEngineOptions } from "./engine-harness.js";
export { sleep, startEngine } from "./engine-harness.js";
export type { HranaServer, HranaServerOptions, HranaStats } from "./hrana/index.js";
export { startHranaServer } from "./hrana/index.js";
export { describeOrchestrationConformance } from "./orchestration-suite.js";
export type { TestCert } from "./tls-cert.js";
export { makeTestCert } from "./tls-cert.js";
