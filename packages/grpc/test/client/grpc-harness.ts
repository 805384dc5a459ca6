import type { Logger } from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import { createTaskRegistry, type TaskRegistry } from "@durabletask/task";
import {
  createSidecarServer,
  createTaskHubGrpcClient,
  createTaskHubGrpcWorker,
  type SidecarServer,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
  type TaskHubGrpcWorkerOptions,
} from "../../src/index.js";

/** Generous bound of every wait in these tests. */
export const waitMs = 20_000;

/** A sidecar on a free loopback port over SQLite, a gRPC client and a gRPC worker. */
export interface GrpcEngine {
  readonly sidecar: SidecarServer;
  readonly client: TaskHubGrpcClient;
  readonly worker: TaskHubGrpcWorker;
  readonly registry: TaskRegistry;
  /** Stops the worker, the client and the sidecar (and its backend). */
  stop(): Promise<void>;
}

/** Options of {@link startGrpcEngine}. */
export interface GrpcEngineOptions {
  readonly worker?: Partial<TaskHubGrpcWorkerOptions>;
  /** SQLite file; default in memory. */
  readonly path?: string;
  readonly port?: number;
  readonly sidecarMaxActivities?: number;
}

/** Starts a sidecar over a fresh SQLite backend. */
export function startSidecar(
  options: { path?: string; port?: number; maxActivities?: number } = {},
) {
  const backend: Backend = createSqliteBackend({ path: options.path ?? ":memory:" });
  return createSidecarServer({
    backend,
    port: options.port ?? 0,
    drainTimeoutMs: 1000,
    maxConcurrentActivities: options.maxActivities,
  });
}

/** Starts a sidecar, a worker running what `register` adds, and a client. */
export async function startGrpcEngine(
  register: (registry: TaskRegistry) => void,
  options: GrpcEngineOptions = {},
): Promise<GrpcEngine> {
  const sidecar = await startSidecar({
    path: options.path,
    port: options.port,
    maxActivities: options.sidecarMaxActivities,
  });
  const registry = createTaskRegistry();
  register(registry);
  const worker = createTaskHubGrpcWorker({
    address: sidecar.address,
    registry,
    drainTimeoutMs: 2000,
    ...options.worker,
  });
  await worker.start();
  const client = createTaskHubGrpcClient({ address: sidecar.address });
  return {
    sidecar,
    client,
    worker,
    registry,
    async stop() {
      await worker.stop();
      client.close();
      await sidecar.stop();
    },
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 20 ms until it holds; fails after {@link waitMs}. */
export async function poll(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A logger that records lines (for assertions on what a library reported). */
export function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string) => {
    lines.push(`${level}: ${message}`);
  };
  return {
    lines,
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
  };
}
