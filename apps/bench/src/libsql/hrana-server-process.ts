import { fileURLToPath } from "node:url";
import { type Child, spawnChild } from "../sidecar/child-processes.js";
import { messagePrefix } from "../sidecar/child-protocol.js";
import { cpuTimeMs } from "../sidecar/proc-stats.js";

/** A message of the Hrana server child (see hrana-server-child.ts). */
export type HranaChildMessage =
  | { readonly event: "listening"; readonly httpUrl: string; readonly wsUrl: string }
  | { readonly event: "stats"; readonly stats: HranaCounters }
  | { readonly event: "error"; readonly error: string };

/** Options of {@link startHranaServerProcess}. */
export interface HranaServerProcessOptions {
  /** The server's database file. */
  readonly path: string;
  /** Latency the server adds to every request, in milliseconds. */
  readonly latencyMs: number;
  /** How long to wait for it to listen; default 30 s. */
  readonly startTimeoutMs?: number | undefined;
}

/** The Hrana test server's counters (its `stats`) that the benchmark reports. */
export interface HranaCounters {
  /** HTTP requests: over HTTP, one per client round trip. */
  readonly httpRequests: number;
  /** WebSocket messages from clients: over WebSocket, one per round trip (and the hello). */
  readonly wsMessages: number;
  /** SQL statements run. */
  readonly statements: number;
  /** `batch` requests. */
  readonly batches: number;
}

/** What the server has done so far. */
export interface HranaServerSample extends HranaCounters {
  /** The child process's CPU time, in milliseconds. */
  readonly cpuMs: number;
}

/** A Hrana server child process, listening on loopback. */
export interface HranaServerProcess {
  readonly child: Child;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** The server's counters and CPU time now. */
  sample(): Promise<HranaServerSample>;
  /** Closes the server (SIGKILL after 10 s); resolves once the child is gone. */
  stop(): Promise<void>;
}

/** The child program, built (the tests run from src/ too). */
const childJs = fileURLToPath(new URL("../../dist/libsql/hrana-server-child.js", import.meta.url));

/**
 * Starts our Hrana v2 test server in a child process (`hrana-server-child.ts`) and resolves once
 * it listens.
 *
 * @throws Error (after killing it) when it fails or does not listen in time.
 */
export async function startHranaServerProcess(
  options: HranaServerProcessOptions,
): Promise<HranaServerProcess> {
  const child = spawnChild([childJs, options.path, String(options.latencyMs)]);
  const waiting: Array<(message: HranaChildMessage) => void> = [];
  let buffered = "";
  child.process.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith(messagePrefix)) continue;
      const message = JSON.parse(line.slice(messagePrefix.length)) as HranaChildMessage;
      waiting.shift()?.(message);
    }
  });
  const next = (timeoutMs: number): Promise<HranaChildMessage> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("the Hrana server did not answer")),
        timeoutMs,
      );
      const exited = () =>
        reject(new Error(`the Hrana server exited (${child.stderrTail() || "no output"})`));
      void child.exited.then(exited);
      waiting.push((message) => {
        clearTimeout(timer);
        if (message.event === "error")
          reject(new Error(`the Hrana server failed: ${message.error}`));
        else resolve(message);
      });
    });
  let listening: HranaChildMessage;
  try {
    listening = await next(options.startTimeoutMs ?? 30_000);
    if (listening.event !== "listening") throw new Error(`unexpected ${listening.event} message`);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return {
    child,
    httpUrl: listening.httpUrl,
    wsUrl: listening.wsUrl,
    async sample() {
      const answer = next(10_000);
      child.process.stdin?.write("stats\n");
      const message = await answer;
      if (message.event !== "stats") throw new Error(`unexpected ${message.event} message`);
      return { ...message.stats, cpuMs: cpuTimeMs(child.pid) };
    },
    async stop() {
      child.process.stdin?.end("stop\n");
      await child.waitForExit(10_000);
    },
  };
}
