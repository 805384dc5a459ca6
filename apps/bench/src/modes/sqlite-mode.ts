import { join } from "node:path";
import { createTaskHubClient, createTaskHubWorker } from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import { createTaskExecutor, type TaskRegistry } from "@durabletask/task";
import { measureStorageCeiling } from "../storage-ceiling.js";
import type { BenchEngine, EmbeddedMode } from "./bench-mode.js";

/** SQLite's `synchronous` setting, as `createSqliteBackend` takes it. */
export type Synchronous = "NORMAL" | "FULL";

/**
 * The embedded engine on a SQLite file (WAL) at the given `synchronous` setting: worker and
 * client in this process, sharing one backend.
 */
export function createSqliteMode(synchronous: Synchronous): EmbeddedMode {
  return {
    kind: "embedded",
    name: `sqlite-${synchronous.toLowerCase()}`,
    async start(registry: TaskRegistry, dir: string): Promise<BenchEngine> {
      const path = join(dir, "bench.sqlite3");
      const backend = createSqliteBackend({ path, synchronous });
      const worker = createTaskHubWorker({ backend, executor: createTaskExecutor({ registry }) });
      await worker.start();
      return {
        client: createTaskHubClient({ backend }),
        storeFiles: [path, `${path}-wal`, `${path}-shm`],
        stop: () => worker.stop(),
      };
    },
    measureCeiling: (dir, durationMs) =>
      measureStorageCeiling(join(dir, "ceiling.sqlite3"), synchronous, durationMs),
  };
}
