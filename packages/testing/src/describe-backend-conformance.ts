import { describe } from "vitest";
import { registerBackendContract } from "./backend-contract.js";
import type { BackendFactory } from "./backend-factory.js";
import { describeOrchestrationConformance } from "./orchestration-suite.js";

/**
 * Registers the Backend conformance suite as vitest tests under `describe(name)`: the storage
 * contract (durabletask-go's `backend_test.go` and more) and end-to-end orchestrations on an
 * in-process engine (its `orchestrations_test.go` and the defects this engine fixes). Every test
 * calls `createBackend` for a fresh, empty backend (it must honour the lock timeouts passed in,
 * which tests shorten to see leases expire) and stops it afterwards.
 *
 * @example
 * describeBackendConformance("sqlite :memory:", (options) => createSqliteBackend(options));
 */
export function describeBackendConformance(name: string, createBackend: BackendFactory): void {
  describe(name, () => registerBackendContract(createBackend));
  describeOrchestrationConformance(name, createBackend);
}
