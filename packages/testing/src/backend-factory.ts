import type { Backend } from "@durabletask/backend";

/** Lease settings a conformance test may ask of a backend (short leases to see them expire). */
export interface BackendFactoryOptions {
  readonly orchestrationLockTimeoutMs?: number | undefined;
  readonly activityLockTimeoutMs?: number | undefined;
}

/** Creates a fresh, empty, not yet started backend for one test. */
export type BackendFactory = (options?: BackendFactoryOptions) => Backend | Promise<Backend>;
