import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type Child, spawnChild } from "./child-processes.js";
import { listeningPorts } from "./proc-stats.js";

/** The built sidecar CLI, `apps/sidecar/dist/main.js`. */
export function sidecarMainJs(): string {
  const packageJson = fileURLToPath(import.meta.resolve("@durabletask/sidecar/package.json"));
  return join(dirname(packageJson), "dist", "main.js");
}

/** Options of {@link startSidecarProcess}. */
export interface SidecarProcessOptions {
  /** The SQLite database file. */
  readonly db: string;
  /** When set: `node --cpu-prof --cpu-prof-dir <dir>`; the profile is written when it stops. */
  readonly cpuProfDir?: string | undefined;
  /** How long to wait for it to listen; default 30 s. */
  readonly startTimeoutMs?: number | undefined;
}

/** A sidecar child process, listening on loopback. */
export interface SidecarProcess {
  readonly child: Child;
  readonly pid: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /**
   * SIGTERM (the sidecar drains, closes the database, writes its CPU profile and exits 0); SIGKILL
   * after 30 s. Resolves with the exit code or signal name.
   */
  stop(): Promise<number | string>;
}

/**
 * Starts `node apps/sidecar/dist/main.js --host 127.0.0.1 --port 0 --db <db>
 * --sqlite-synchronous NORMAL --log-level warn` and resolves once it listens. At `warn` the
 * sidecar does not print its `listening on host:port` line (that is `info`, like its
 * per-orchestration lines, which would cost CPU), so the bound port is read from /proc.
 *
 * @throws Error (after killing it) when it exits or does not listen within the timeout.
 */
export async function startSidecarProcess(options: SidecarProcessOptions): Promise<SidecarProcess> {
  const main = sidecarMainJs();
  if (!existsSync(main)) throw new Error(`${main} is missing: build the sidecar first`);
  const nodeArgs =
    options.cpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", options.cpuProfDir];
  const args = [
    ...nodeArgs,
    main,
    ...["--host", "127.0.0.1", "--port", "0", "--db", options.db],
    ...["--sqlite-synchronous", "NORMAL", "--log-level", "warn"],
  ];
  // The sidecar reads DURABLETASK_* variables: the caller's must not change what is measured.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("DURABLETASK_")),
  );
  const child = spawnChild(args, env);
  try {
    const port = await waitForPort(child, options.startTimeoutMs ?? 30_000);
    return {
      child,
      pid: child.pid,
      address: `127.0.0.1:${port}`,
      stop: () => child.stop("SIGTERM", 30_000),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

async function waitForPort(child: Child, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.hasExited()) {
      throw new Error(
        `the sidecar exited (${await child.exited}) before listening:\n${child.stderrTail()}`,
      );
    }
    let ports: number[] = [];
    try {
      ports = listeningPorts(child.pid);
    } catch {
      // it exited meanwhile: the next round reports it
    }
    const [port] = ports;
    if (port !== undefined) return port;
    if (Date.now() > deadline) {
      throw new Error(`the sidecar did not listen within ${timeoutMs} ms:\n${child.stderrTail()}`);
    }
    await sleep(20);
  }
}
