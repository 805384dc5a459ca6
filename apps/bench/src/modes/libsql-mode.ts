import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Backend } from "@durabletask/backend";
import { createTaskHubClient, createTaskHubWorker } from "@durabletask/backend";
import type { LibsqlBackendOptions } from "@durabletask/libsql";
import { createTaskExecutor, type TaskRegistry } from "@durabletask/task";
import { startHranaServerProcess } from "../libsql/hrana-server-process.js";
import type { BenchEngine, EmbeddedMode, EmbeddedRunSettings, Figures } from "./bench-mode.js";

/**
 * `createLibsqlBackend`, with `@durabletask/libsql` loaded only when a libSQL mode starts. It and
 * its native library add ≈ 9–13 MB to the RSS of the process that loads them, and a run in
 * another mode must not carry that: W4 on SQLite reports its process's memory, as a user of
 * `@durabletask/sqlite` alone would have it.
 */
async function loadLibsqlBackend(options: LibsqlBackendOptions): Promise<Backend> {
  const libsql = await import("@durabletask/libsql");
  return libsql.createLibsqlBackend(options);
}

/** Worker and client on `backend`, in this process; `stop` drains, then runs `after`. */
async function startEngine(
  backend: Backend,
  registry: TaskRegistry,
  storeFiles: readonly string[],
  extra: Pick<BenchEngine, "beginMeasure" | "endMeasure"> & { after?: () => Promise<void> } = {},
): Promise<BenchEngine> {
  const worker = createTaskHubWorker({ backend, executor: createTaskExecutor({ registry }) });
  try {
    await worker.start();
  } catch (error) {
    await extra.after?.();
    throw error;
  }
  return {
    client: createTaskHubClient({ backend }),
    storeFiles,
    beginMeasure: extra.beginMeasure,
    endMeasure: extra.endMeasure,
    async stop() {
      try {
        await worker.stop();
      } finally {
        await extra.after?.();
      }
    },
  };
}

/**
 * `libsql-file`: the embedded engine on an embedded libSQL database file (`file:` URL,
 * `@libsql/client`'s native libSQL), worker and client in this process sharing one backend.
 */
export function createLibsqlFileMode(): EmbeddedMode {
  return {
    kind: "embedded",
    name: "libsql-file",
    async start(registry: TaskRegistry, dir: string): Promise<BenchEngine> {
      const path = join(dir, "bench.db");
      const backend = await loadLibsqlBackend({ url: pathToFileURL(path).href });
      return startEngine(backend, registry, [path, `${path}-wal`, `${path}-shm`]);
    },
  };
}

/**
 * `libsql-remote`: the embedded engine (worker and client in this process) on a libSQL server —
 * our Hrana v2 test server (`@durabletask/testing`) in a child process, over HTTP, adding
 * `--libsql-latency-ms` to every request. Besides the usual figures it reports the server's
 * `round_trips_per_orchestration` (requests it served during the measured part, idle polling
 * included), `statements_per_orchestration`, `batches_per_orchestration` and
 * `server_cpu_ms_per_orchestration`.
 */
export function createLibsqlRemoteMode(): EmbeddedMode {
  return {
    kind: "embedded",
    name: "libsql-remote",
    async start(
      registry: TaskRegistry,
      dir: string,
      settings: EmbeddedRunSettings,
    ): Promise<BenchEngine> {
      const path = join(dir, "server.db");
      const server = await startHranaServerProcess({ path, latencyMs: settings.libsqlLatencyMs });
      let backend: Backend;
      try {
        backend = await loadLibsqlBackend({ url: server.httpUrl });
      } catch (error) {
        await server.stop();
        throw error;
      }
      let before: Awaited<ReturnType<typeof server.sample>> | undefined;
      return startEngine(backend, registry, [path, `${path}-wal`, `${path}-shm`], {
        async beginMeasure() {
          before = await server.sample();
        },
        async endMeasure(orchestrations: number): Promise<Figures> {
          const after = await server.sample();
          if (before === undefined) throw new Error("endMeasure before beginMeasure");
          const per = (key: keyof typeof after) =>
            (after[key] - (before?.[key] ?? 0)) / orchestrations;
          return {
            round_trips_per_orchestration: per("httpRequests") + per("wsMessages"),
            statements_per_orchestration: per("statements"),
            batches_per_orchestration: per("batches"),
            server_cpu_ms_per_orchestration: per("cpuMs"),
          };
        },
        after: async () => {
          await server.stop();
        },
      });
    },
  };
}
