import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { benchModes } from "./modes.js";
import type { WorkloadSettings } from "./workloads/workload.js";
import { defaultWorkloads, workloads } from "./workloads.js";

/** Everything a bench run was asked for: the workload sizes plus how to run and report. */
export interface BenchConfig extends WorkloadSettings {
  readonly workloads: readonly string[];
  readonly modes: readonly string[];
  /** Measurements of every figure; the report shows their median and min–max. */
  readonly repeat: number;
  /** Duration of each storage-ceiling figure, in milliseconds. */
  readonly ceilingMs: number;
  /** Where each run's temporary store directory is created (its file system matters). */
  readonly tmpDir: string;
  /** Where the JSON report goes; default `.bench/bench-<time>.json`. */
  readonly jsonPath: string | undefined;
  /**
   * An unmeasured W1 run first, so the first measurement is not JIT warm-up; in the sidecar
   * modes, whose processes are fresh for every run, a warm-up inside every run instead.
   */
  readonly warmup: boolean;
  /** Sidecar modes: `maxConcurrentOrchestrations` / `maxConcurrentActivities` of our gRPC worker. */
  readonly workerConcurrency: number;
  /** Sidecar modes: run the sidecar with `--cpu-prof`, writing its profiles into this directory. */
  readonly sidecarCpuProfDir: string | undefined;
  /** `libsql-remote`: latency the Hrana server adds to every request, in milliseconds. */
  readonly libsqlLatencyMs: number;
  readonly smoke: boolean;
}

/** The full-size defaults and the `--smoke` sizes. */
const sizes = {
  full: {
    n: 1000,
    runs: 200,
    repeat: 3,
    ceilingMs: 1000,
    fanOut: 100,
    fanOutRuns: 20,
    fanOutLarge: 10_000,
    sequence: 10_000,
    waiting: 100_000,
    timers: 1000,
    timerMs: 1000,
  },
  smoke: {
    n: 20,
    runs: 5,
    repeat: 1,
    ceilingMs: 100,
    fanOut: 100,
    fanOutRuns: 3,
    fanOutLarge: 300,
    sequence: 60,
    waiting: 50,
    timers: 20,
    timerMs: 1000,
  },
};

/** The `--help` text. */
export function usage(): string {
  return [
    "Usage: node apps/bench/dist/main.js [options]",
    "",
    `  --workload <list>  comma-separated: ${[...workloads.keys()].join(",")}, or all`,
    `                     (default: ${defaultWorkloads.join(",")})`,
    `  --mode <list>      comma-separated: ${[...benchModes.keys()].join(",")} (default: all)`,
    "  --n <count>        W1: orchestrations started at once (default 1000)",
    "  --runs <count>     W1-seq: orchestrations run one at a time (default 200)",
    "  --fan-out <count>  W2: activities of the small fan-out (default 100)",
    "  --fan-out-runs <count>",
    "                     W2: small fan-outs run one at a time (default 20)",
    "  --fan-out-large <count>",
    "                     W2: activities of the large fan-out (default 10000)",
    "  --sequence <count> W3: sequential activities of the one orchestration (default 10000)",
    "  --waiting <count>  W4: orchestrations waiting on an external event (default 100000)",
    "  --timers <count>   W5: orchestrations with one durable timer each (default 1000)",
    "  --timer-ms <ms>    W5: the timers' delay (default 1000)",
    "  --repeat <count>   measurements per figure; the median is reported (default 3)",
    "  --ceiling-ms <ms>  duration of each raw storage figure (default 1000)",
    "  --wait <how>       W1 completion detection: poll | waiters (default poll)",
    "  --worker-concurrency <count>",
    "                     sidecar-grpc-worker: the worker's concurrency limits (default 100)",
    "  --sidecar-cpu-prof <dir>",
    "                     sidecar modes: node --cpu-prof the sidecar, profiles into <dir>",
    "  --libsql-latency-ms <ms>",
    "                     libsql-remote: latency the Hrana server adds per request (default 0)",
    "  --tmp <dir>        parent of the temporary store directories (default: the OS temp dir)",
    "  --json <file>      write the JSON report here (default .bench/bench-<time>.json)",
    "  --no-warmup        skip the unmeasured warm-up run",
    "  --smoke            tiny sizes: n=20, runs=5, repeat=1, fan-out-runs=3, fan-out-large=300,",
    "                     sequence=60, waiting=50, timers=20 (explicit flags still win)",
    "  -h, --help         show this help",
  ].join("\n");
}

/**
 * Parses the command line. Returns `"help"` for `--help`.
 *
 * @throws Error with a message naming the bad flag.
 */
export function parseBenchArgs(args: readonly string[]): BenchConfig | "help" {
  const { values } = parseArgs({
    args: [...args],
    options: {
      workload: { type: "string" },
      mode: { type: "string" },
      n: { type: "string" },
      runs: { type: "string" },
      "fan-out": { type: "string" },
      "fan-out-runs": { type: "string" },
      "fan-out-large": { type: "string" },
      sequence: { type: "string" },
      waiting: { type: "string" },
      timers: { type: "string" },
      "timer-ms": { type: "string" },
      repeat: { type: "string" },
      "ceiling-ms": { type: "string" },
      wait: { type: "string", default: "poll" },
      tmp: { type: "string", default: tmpdir() },
      json: { type: "string" },
      "worker-concurrency": { type: "string" },
      "sidecar-cpu-prof": { type: "string" },
      "libsql-latency-ms": { type: "string" },
      "no-warmup": { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const base = values.smoke ? sizes.smoke : sizes.full;
  if (values.wait !== "waiters" && values.wait !== "poll") {
    throw new Error(`--wait: expected waiters or poll, got '${values.wait}'`);
  }
  return {
    workloads:
      values.workload === "all"
        ? [...workloads.keys()]
        : listOf(values.workload, workloads, "--workload", defaultWorkloads),
    modes: listOf(values.mode, benchModes, "--mode", [...benchModes.keys()]),
    n: count(values.n, base.n, "--n"),
    runs: count(values.runs, base.runs, "--runs"),
    fanOut: count(values["fan-out"], base.fanOut, "--fan-out"),
    fanOutRuns: count(values["fan-out-runs"], base.fanOutRuns, "--fan-out-runs"),
    fanOutLarge: count(values["fan-out-large"], base.fanOutLarge, "--fan-out-large"),
    sequence: count(values.sequence, base.sequence, "--sequence"),
    waiting: count(values.waiting, base.waiting, "--waiting"),
    timers: count(values.timers, base.timers, "--timers"),
    timerMs: count(values["timer-ms"], base.timerMs, "--timer-ms"),
    repeat: count(values.repeat, base.repeat, "--repeat"),
    ceilingMs: count(values["ceiling-ms"], base.ceilingMs, "--ceiling-ms"),
    wait: values.wait,
    tmpDir: values.tmp,
    jsonPath: values.json,
    warmup: !values["no-warmup"],
    workerConcurrency: count(values["worker-concurrency"], 100, "--worker-concurrency"),
    sidecarCpuProfDir:
      values["sidecar-cpu-prof"] === undefined ? undefined : resolve(values["sidecar-cpu-prof"]),
    libsqlLatencyMs: milliseconds(values["libsql-latency-ms"], 0, "--libsql-latency-ms"),
    smoke: values.smoke,
  };
}

function listOf(
  value: string | undefined,
  known: ReadonlyMap<string, unknown>,
  flag: string,
  fallback: readonly string[],
): string[] {
  if (value === undefined) return [...fallback];
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(
      `${flag}: unknown '${unknown.join(",")}' (known: ${[...known.keys()].join(", ")})`,
    );
  }
  return names;
}

function count(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`${flag}: expected an integer ≥ 1, got '${value}'`);
  return parsed;
}

function milliseconds(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isInteger(parsed) || parsed < 0 || parsed > 60_000) {
    throw new Error(`${flag}: expected an integer from 0 to 60000, got '${value}'`);
  }
  return parsed;
}

/** The settings every workload run of `config` gets. */
export function workloadSettingsOf(config: BenchConfig): WorkloadSettings {
  const { n, runs, wait, fanOut, fanOutRuns, fanOutLarge, sequence, waiting, timers, timerMs } =
    config;
  return { n, runs, wait, fanOut, fanOutRuns, fanOutLarge, sequence, waiting, timers, timerMs };
}

/** `settings` cut down to the smoke sizes, for the unmeasured warm-up run. */
export function warmUpSettingsOf(settings: WorkloadSettings): WorkloadSettings {
  const smoke = sizes.smoke;
  return {
    ...settings,
    n: Math.min(50, settings.n),
    runs: 5,
    fanOutRuns: Math.min(smoke.fanOutRuns, settings.fanOutRuns),
    fanOutLarge: Math.min(smoke.fanOutLarge, settings.fanOutLarge),
    sequence: Math.min(smoke.sequence, settings.sequence),
    waiting: Math.min(smoke.waiting, settings.waiting),
    timers: Math.min(smoke.timers, settings.timers),
  };
}
