import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogFields, Logger, LogLevel } from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import { createSidecarServer, type SidecarServer } from "@durabletask/grpc";
import { createSqliteBackend } from "@durabletask/sqlite";

/** A sidecar on a fresh SQLite file in a temp directory, listening on a free loopback port. */
export interface TestSidecar {
  /** `127.0.0.1:<port>`, what the SDKs get as their host address (the same after a restart). */
  readonly address: string;
  /** The current sidecar's backend, to check what the SDKs could not see (history, statuses). */
  readonly backend: Backend;
  /** The sidecar's recent log lines at `warn` and above (or the chosen level), oldest first. */
  readonly logs: readonly string[];
  /** Stops the sidecar (draining) and starts a new one on the same port and database. */
  restart(): Promise<void>;
  /** Stops the server (draining for at most `drainTimeoutMs`) and deletes the database. */
  stop(): Promise<void>;
}

/** Options of {@link startTestSidecar}. */
export interface TestSidecarOptions {
  /** Lowest level kept in {@link TestSidecar.logs}; default `warn`. */
  readonly logLevel?: LogLevel | undefined;
  /** Default 2 s: tests should not wait long for SDK workers that are already gone. */
  readonly drainTimeoutMs?: number | undefined;
}

const keptLines = 400;
const levels: readonly LogLevel[] = ["debug", "info", "warn", "error"];

function memoryLogger(lines: string[], threshold: LogLevel): Logger {
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (levels.indexOf(level) < levels.indexOf(threshold)) return;
    const extra = fields === undefined ? "" : ` ${safeJson(fields)}`;
    lines.push(`${new Date().toISOString()} ${level.toUpperCase()} ${message}${extra}`);
    if (lines.length > keptLines) lines.splice(0, lines.length - keptLines);
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

function safeJson(fields: LogFields): string {
  try {
    return JSON.stringify(fields, (_k, v: unknown) => (v instanceof Error ? v.message : v));
  } catch {
    return String(fields);
  }
}

/** Starts a sidecar for one test file (SQLite file in a temp dir, port 0, loopback only). */
export async function startTestSidecar(options: TestSidecarOptions = {}): Promise<TestSidecar> {
  const dir = mkdtempSync(join(tmpdir(), "durabletask-interop-"));
  const logs: string[] = [];
  const logger = memoryLogger(logs, options.logLevel ?? "warn");
  const start = async (port: number) => {
    // NORMAL (not the sidecar's FULL) skips an fsync per commit: the suite tests the protocol,
    // not power-failure durability, and runs several times faster on slow disks.
    const backend = createSqliteBackend({
      path: join(dir, "interop.sqlite3"),
      logger,
      synchronous: "NORMAL",
    });
    const server = await createSidecarServer({
      backend,
      logger,
      host: "127.0.0.1",
      port,
      drainTimeoutMs: options.drainTimeoutMs ?? 2000,
      // Frequent pings: both SDKs must keep working with HealthPing work items on the stream.
      healthPingIntervalMs: 250,
    });
    return { backend, server };
  };
  let current: { backend: Backend; server: SidecarServer };
  try {
    current = await start(0);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const address = current.server.address;
  return {
    address,
    get backend() {
      return current.backend;
    },
    logs,
    async restart() {
      await current.server.stop();
      current = await start(current.server.port);
    },
    async stop() {
      try {
        await current.server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
