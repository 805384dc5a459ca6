import type { BenchMode } from "./modes/bench-mode.js";
import { createSqliteMode } from "./modes/sqlite-mode.js";

/** Every mode the benchmark knows, by name (add libSQL and the sidecar here). */
export const benchModes: ReadonlyMap<string, BenchMode> = new Map(
  [createSqliteMode("NORMAL"), createSqliteMode("FULL")].map((mode) => [mode.name, mode]),
);
