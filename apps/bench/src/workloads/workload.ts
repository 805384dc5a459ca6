import type { TaskRegistry } from "@durabletask/task";
import type { Figures } from "../modes/bench-mode.js";
import type { BenchClient } from "./bench-client.js";

/** How a workload waits for many orchestrations (see `waitForAll`). */
export type WaitStrategy = "waiters" | "poll";

/** Sizes and knobs a workload run gets. */
export interface WorkloadSettings {
  /** Orchestrations started at once (W1). */
  readonly n: number;
  /** Orchestrations run one after another (W1-seq). */
  readonly runs: number;
  readonly wait: WaitStrategy;
  /** W2: activities of the small fan-out (100), run `fanOutRuns` times one after another. */
  readonly fanOut: number;
  readonly fanOutRuns: number;
  /** W2: activities of the one large fan-out (10,000). */
  readonly fanOutLarge: number;
  /** W3: sequential activities of the one orchestration (10,000). */
  readonly sequence: number;
  /** W4: orchestrations waiting on an external event at once (100,000). */
  readonly waiting: number;
  /** W5: orchestrations each waiting on one durable timer, started at once (1000). */
  readonly timers: number;
  /** W5: the timers' delay in milliseconds (1000). */
  readonly timerMs: number;
}

/** Where the run's engine is, for workloads that measure its process (W4's memory). */
export interface RunContext {
  /**
   * The process that runs the engine (the sidecar), when it is not this one; undefined in the
   * embedded modes, where the engine shares this process.
   */
  readonly enginePid?: number | undefined;
}

/** What one run of a workload measured. */
export interface WorkloadRun {
  /** The workload's own figures (throughput, latency, …). */
  readonly figures: Figures;
  /** Orchestrations the run started. */
  readonly orchestrations: number;
}

/**
 * One benchmark workload. The runner gives every run a fresh store: it calls `register`, starts
 * the mode's engine, calls `run` (measuring CPU time around it), then `countCompleted`.
 */
export interface Workload {
  readonly name: string;
  /**
   * Its figures describe the process's memory: in the embedded modes every run gets a fresh
   * Node process, so what earlier runs left in the heap does not count.
   */
  readonly freshProcess?: boolean;
  register(registry: TaskRegistry): void;
  /** The measured part: start the orchestrations and wait until every one has finished. */
  run(client: BenchClient, settings: WorkloadSettings, context: RunContext): Promise<WorkloadRun>;
  /** After `run`, unmeasured: how many orchestrations COMPLETED with the expected output. */
  countCompleted(client: BenchClient): Promise<number>;
}
