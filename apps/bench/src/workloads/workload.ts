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
  register(registry: TaskRegistry): void;
  /** The measured part: start the orchestrations and wait until every one has finished. */
  run(client: BenchClient, settings: WorkloadSettings): Promise<WorkloadRun>;
  /** After `run`, unmeasured: how many orchestrations COMPLETED with the expected output. */
  countCompleted(client: BenchClient): Promise<number>;
}
