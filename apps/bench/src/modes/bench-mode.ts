import type { TaskHubClient } from "@durabletask/backend";
import type { TaskRegistry } from "@durabletask/task";

/** Figures of one measurement, by metric name (units in the name: `_per_s`, `_ms`, `_mb`). */
export type Figures = Record<string, number>;

/** An engine a workload runs against: a client and a way to shut everything down. */
export interface BenchEngine {
  readonly client: TaskHubClient;
  /** Files that make up the store; their total size after `stop()` is the store's size. */
  readonly storeFiles: readonly string[];
  /** Stops the worker (draining) and closes the store. */
  stop(): Promise<void>;
}

/**
 * One way of running the engine (embedded SQLite at a given durability, later libSQL or the
 * sidecar). A mode owns its store, which lives in the directory it is given.
 */
export interface BenchMode {
  readonly name: string;
  /** Starts an engine running `registry`, with its store in the empty directory `dir`. */
  start(registry: TaskRegistry, dir: string): Promise<BenchEngine>;
  /**
   * The raw storage ceiling of this mode's store in `dir`, measured for about `durationMs` per
   * figure: `small_tx_per_s` (one INSERT + one UPDATE per transaction) and
   * `batched_rows_per_s` (100 rows per transaction). Absent when the mode has no such figure.
   */
  measureCeiling?(dir: string, durationMs: number): Figures;
}
