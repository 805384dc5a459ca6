import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The official SDKs the interop suite drives, each in its own process. */
export type Sdk = "microsoft" | "dapr";

/** One `@@ {…}` line of a scenario program (see scenarios/common.mjs). */
export interface ScenarioMessage {
  readonly scenario?: string;
  readonly ok?: boolean;
  readonly value?: unknown;
  readonly error?: string;
  readonly event?: string;
  readonly done?: boolean;
  readonly ms?: number;
  readonly [key: string]: unknown;
}

/** A running scenario program. */
export interface ScenarioProcess {
  readonly pid: number;
  /** The outcome line of scenario `name`; rejects if the process ends without one. */
  outcome(name: string): Promise<ScenarioMessage>;
  /** The first `{event: name}` line; rejects if the process ends without one. */
  event(name: string): Promise<ScenarioMessage>;
  /** Every message so far. */
  readonly messages: readonly ScenarioMessage[];
  /** The last few KiB the process wrote to stderr (the SDKs' own logs). */
  stderrTail(): string;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** Writes `line` and a newline to the process's stdin. */
  send(line: string): void;
  /** Kills the process (SIGKILL by default) and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Options of {@link startScenarioProcess}. */
export interface ScenarioProcessOptions {
  readonly sdk: Sdk;
  /** The sidecar, `host:port`. */
  readonly address: string;
  /** `all`, `restart-a` or `restart-b`. */
  readonly group: string;
  /** Only these scenarios (default: the SDK's whole list). */
  readonly only?: readonly string[] | undefined;
  /** Instance ids for the restart groups. */
  readonly ids?: readonly string[] | undefined;
  /** Makes instance ids unique across runs on one database. */
  readonly run?: string | undefined;
}

const running = new Set<ChildProcess>();
const stderrKeep = 16 * 1024;

// A crashed or interrupted test run must not leave SDK workers behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Kills every scenario process this module started that is still running. */
export async function killAllScenarioProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
}

/** The path of an SDK's scenario program. */
export function scenarioProgram(sdk: Sdk): string {
  return fileURLToPath(new URL(`../scenarios/${sdk}.mjs`, import.meta.url));
}

/** Starts the scenario program of `sdk` with the Node that runs this process. */
export function startScenarioProcess(options: ScenarioProcessOptions): ScenarioProcess {
  const args = [
    scenarioProgram(options.sdk),
    "--address",
    options.address,
    "--group",
    options.group,
  ];
  if (options.only !== undefined) args.push("--only", options.only.join(","));
  if (options.ids !== undefined) args.push("--ids", options.ids.join(","));
  if (options.run !== undefined) args.push("--run", options.run);
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] });
  running.add(child);
  child.stdin?.on("error", () => {}); // EPIPE when the process is already gone
  const messages: ScenarioMessage[] = [];
  const waiters = new Set<{
    match: (m: ScenarioMessage) => boolean;
    resolve: (m: ScenarioMessage) => void;
  }>();
  let stderr = "";
  let pending = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("@@ ")) continue;
      const message = JSON.parse(line.slice(3)) as ScenarioMessage;
      messages.push(message);
      for (const waiter of [...waiters]) {
        if (!waiter.match(message)) continue;
        waiters.delete(waiter);
        waiter.resolve(message);
      }
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-stderrKeep);
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? "unknown");
    });
  });
  const waitFor = (
    match: (m: ScenarioMessage) => boolean,
    what: string,
  ): Promise<ScenarioMessage> => {
    const seen = messages.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      waiters.add(waiter);
      void exited.then((code) => {
        if (!waiters.delete(waiter)) return;
        reject(
          new Error(
            `${options.sdk} scenario process exited (${code}) before ${what}\n${stderr.slice(-4000)}`,
          ),
        );
      });
    });
  };
  return {
    pid: child.pid ?? -1,
    messages,
    exited,
    outcome: (name) => waitFor((m) => m.scenario === name, `scenario '${name}' reported`),
    event: (name) => waitFor((m) => m.event === name, `event '${name}'`),
    stderrTail: () => stderr,
    send: (line) => {
      child.stdin?.write(`${line}\n`);
    },
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
