import type { BenchMode } from "./modes/bench-mode.js";
import { createLibsqlFileMode, createLibsqlRemoteMode } from "./modes/libsql-mode.js";
import { createSidecarMode } from "./modes/sidecar-mode.js";
import { createSqliteMode } from "./modes/sqlite-mode.js";

/** Every mode the benchmark knows, by name. */
export const benchModes: ReadonlyMap<string, BenchMode> = new Map(
  [
    createSqliteMode("NORMAL"),
    createSqliteMode("FULL"),
    createSidecarMode("microsoft"),
    createSidecarMode("grpc-worker"),
    createLibsqlFileMode(),
    createLibsqlRemoteMode(),
  ].map((mode): [string, BenchMode] => [mode.name, mode]),
);
