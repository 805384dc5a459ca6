import type { TaskHubClient } from "@durabletask/backend";
import type { TaskRegistry } from "@durabletask/task";
import type { Workload, WorkloadSettings } from "../workloads/workload.js";

/** Figures of one measurement, by metric name (units in the name: `_per_s`, `_ms`, `_mb`). */
export type Figures = Record<string, number>;

/** An engine a workload runs against: a client and a way to shut everything down. */
export interface BenchEngine {
  readonly client: TaskHubClient;
  /** Files that make up the store; their total size after `stop()` is the store's size. */
  readonly storeFiles: readonly string[];
  /**
   * Called right before the measured part, outside the CPU measurement: the mode starts
   * measuring figures of its own (e.g. a database server's round trips).
   */
  beginMeasure?(): Promise<void>;
  /**
   * Called right after the measured part (which started `orchestrations`), outside the CPU
   * measurement: the mode's own figures since {@link beginMeasure}.
   */
  endMeasure?(orchestrations: number): Promise<Figures>;
  /** Stops the worker (draining) and closes the store. */
  stop(): Promise<void>;
}

/** Settings of the embedded modes from the command line. */
export interface EmbeddedRunSettings {
  /** `libsql-remote`: the Hrana server's added latency per request, in milliseconds. */
  readonly libsqlLatencyMs: number;
}

/**
 * A way of running the engine: in this process ({@link EmbeddedMode}) or in other processes
 * ({@link ProcessMode}). A mode owns its store, which lives in the directory it is given.
 */
export type BenchMode = EmbeddedMode | ProcessMode;

/** The engine and the client in the benchmark's own process (embedded SQLite or libSQL). */
export interface EmbeddedMode {
  readonly kind: "embedded";
  readonly name: string;
  /** Starts an engine running `registry`, with its store in the empty directory `dir`. */
  start(registry: TaskRegistry, dir: string, settings: EmbeddedRunSettings): Promise<BenchEngine>;
  /**
   * The raw storage ceiling of this mode's store in `dir`, measured for about `durationMs` per
   * figure: `small_tx_per_s` (one INSERT + one UPDATE per transaction) and
   * `batched_rows_per_s` (100 rows per transaction). Absent when the mode has no such figure.
   */
  measureCeiling?(dir: string, durationMs: number): Figures;
}

/** How a {@link ProcessMode} run is set up. */
export interface ProcessRunSettings extends WorkloadSettings {
  /** Orchestrations of the unmeasured warm-up inside the run's processes; 0 for none. */
  readonly warmup: number;
  /** `maxConcurrentOrchestrations` and `maxConcurrentActivities` of our gRPC worker. */
  readonly workerConcurrency: number;
  /** When set, the sidecar runs with `--cpu-prof` and writes its profile into this directory. */
  readonly sidecarCpuProfDir: string | undefined;
}

/** What a {@link ProcessMode} run measured. */
export interface ProcessRun {
  /** The workload's figures and the processes' CPU and memory figures. */
  readonly figures: Figures;
  /** Orchestrations the measured part started. */
  readonly orchestrations: number;
  /** How many of them COMPLETED with the expected output. */
  readonly completed: number;
  /** The store's files; the runner sizes them once `run` has resolved. */
  readonly storeFiles: readonly string[];
}

/**
 * The engine and the workload in child processes (the sidecar and an SDK worker + client): the
 * mode runs the whole workload itself and reports the children's figures.
 */
export interface ProcessMode {
  readonly kind: "process";
  readonly name: string;
  /**
   * Runs `workload` once with its store in the empty directory `dir`. Every child process it
   * started is gone when the promise settles, also when it rejects.
   */
  run(workload: Workload, settings: ProcessRunSettings, dir: string): Promise<ProcessRun>;
}
