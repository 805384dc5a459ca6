import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { benchModes } from "./modes.js";
import type { WaitStrategy } from "./workloads/workload.js";
import { workloads } from "./workloads.js";

/** What one benchmark invocation runs. */
export interface BenchConfig {
  readonly workloads: readonly string[];
  readonly modes: readonly string[];
  /** W1: orchestrations started at once. */
  readonly n: number;
  /** W1-seq: orchestrations run one after another. */
  readonly runs: number;
  /** Measurements of every figure; the report shows their median and min–max. */
  readonly repeat: number;
  /** Duration of each storage-ceiling figure, in milliseconds. */
  readonly ceilingMs: number;
  readonly wait: WaitStrategy;
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
  full: { n: 1000, runs: 200, repeat: 3, ceilingMs: 1000 },
  smoke: { n: 20, runs: 5, repeat: 1, ceilingMs: 100 },
};

/** The `--help` text. */
export function usage(): string {
  return [
    "Usage: node apps/bench/dist/main.js [options]",
    "",
    `  --workload <list>  comma-separated: ${[...workloads.keys()].join(",")} (default: all)`,
    `  --mode <list>      comma-separated: ${[...benchModes.keys()].join(",")} (default: all)`,
    "  --n <count>        W1: orchestrations started at once (default 1000)",
    "  --runs <count>     W1-seq: orchestrations run one at a time (default 200)",
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
    "  --smoke            tiny sizes: n=20, runs=5, repeat=1 (explicit flags still win)",
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
    workloads: listOf(values.workload, workloads, "--workload"),
    modes: listOf(values.mode, benchModes, "--mode"),
    n: count(values.n, base.n, "--n"),
    runs: count(values.runs, base.runs, "--runs"),
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
): string[] {
  if (value === undefined) return [...known.keys()];
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
