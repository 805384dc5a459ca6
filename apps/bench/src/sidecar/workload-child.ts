// The child side of a sidecar mode run (see child-protocol.ts): connects a worker and a client to
// the sidecar, warms up, then runs one workload when told to and reports its figures.
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { BenchClient } from "../workloads/bench-client.js";
import { warmUp } from "../workloads/warm-up.js";
import type { Workload, WorkloadSettings } from "../workloads/workload.js";
import { workloads } from "../workloads.js";
import { type ChildMessage, messagePrefix, type ParentCommand } from "./child-protocol.js";

/** A worker and a client connected to the sidecar, in this process. */
export interface ChildEngine {
  readonly client: BenchClient;
  /** Stops the worker and closes the client. */
  stop(): Promise<void>;
}

/** The command line of a workload child. */
export interface ChildOptions {
  /** The sidecar, `host:port`. */
  readonly address: string;
  readonly workload: Workload;
  readonly settings: WorkloadSettings;
  /** Orchestrations of the warm-up; 0 for none. */
  readonly warmup: number;
  /** Concurrency limits of a worker that has them. */
  readonly concurrency: number;
  /** The sidecar's process id (W4 reads its memory). */
  readonly sidecarPid: number;
}

/** The arguments {@link parseChildArgs} reads, for the benchmark that starts the child. */
export function childArgs(options: {
  readonly address: string;
  readonly workload: string;
  readonly settings: WorkloadSettings;
  readonly warmup: number;
  readonly concurrency: number;
  readonly sidecarPid: number;
}): string[] {
  const { address, workload, settings, warmup, concurrency, sidecarPid } = options;
  return [
    ...["--address", address, "--workload", workload],
    ...["--settings", JSON.stringify(settings)],
    ...["--warmup", String(warmup), "--concurrency", String(concurrency)],
    ...["--sidecar-pid", String(sidecarPid)],
  ];
}

/** Reads the command line {@link childArgs} wrote. */
export function parseChildArgs(args: readonly string[]): ChildOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      address: { type: "string" },
      workload: { type: "string" },
      settings: { type: "string" },
      warmup: { type: "string" },
      concurrency: { type: "string" },
      "sidecar-pid": { type: "string" },
    },
  });
  const workload = workloads.get(values.workload ?? "");
  const sidecarPid = Number(values["sidecar-pid"]);
  if (
    values.address === undefined ||
    workload === undefined ||
    values.settings === undefined ||
    !Number.isInteger(sidecarPid) ||
    sidecarPid <= 0
  ) {
    throw new Error(`bad arguments: ${args.join(" ")}`);
  }
  const settings = JSON.parse(values.settings) as WorkloadSettings;
  if (settings.wait !== "poll" && settings.wait !== "waiters") {
    throw new Error(`--settings: bad wait '${settings.wait}'`);
  }
  return {
    address: values.address,
    workload,
    settings,
    warmup: Number(values.warmup ?? 0),
    concurrency: Number(values.concurrency ?? 100),
    sidecarPid,
  };
}

function emit(message: ChildMessage): void {
  process.stdout.write(`${messagePrefix}${JSON.stringify(message)}\n`);
}

/**
 * Runs a workload child: `connect` starts the worker and the client. Exits the process when done
 * (0, after stopping the worker and the client), on failure (1, at once, after an `error`
 * message: the benchmark stops the sidecar) and as soon as stdin closes (1).
 */
export function runWorkloadChild(connect: (options: ChildOptions) => Promise<ChildEngine>): void {
  const lines = createInterface({ input: process.stdin });
  const commands: string[] = [];
  let wake: (() => void) | undefined;
  let stdinClosed = false;
  let stopping = false;
  lines.on("line", (line) => {
    commands.push(line.trim());
    wake?.();
  });
  lines.on("close", () => {
    stdinClosed = true;
    wake?.();
    // The benchmark is gone: nothing will read what this process does any more.
    if (!stopping) process.exit(1);
  });
  const command = async (expected: ParentCommand): Promise<void> => {
    for (;;) {
      const next = commands.shift();
      if (next !== undefined) {
        if (next === expected) return;
        throw new Error(`expected the command '${expected}', got '${next}'`);
      }
      if (stdinClosed) throw new Error(`stdin closed before the command '${expected}'`);
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  };
  const main = async () => {
    const options = parseChildArgs(process.argv.slice(2));
    const engine = await connect(options);
    if (options.warmup > 0) await warmUp(engine.client, options.warmup);
    emit({ event: "ready" });
    await command("go");
    const run = await options.workload.run(engine.client, options.settings, {
      enginePid: options.sidecarPid,
    });
    emit({ event: "measured", figures: run.figures, orchestrations: run.orchestrations });
    emit({ event: "counted", completed: await options.workload.countCompleted(engine.client) });
    await command("stop");
    stopping = true;
    await engine.stop();
  };
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      emit({ event: "error", error: String((error as Error)?.stack ?? error) });
      process.exit(1);
    },
  );
}
