import { w1 } from "./workloads/w1.js";
import { w1Seq } from "./workloads/w1-seq.js";
import { w2 } from "./workloads/w2.js";
import { w3 } from "./workloads/w3.js";
import { w4 } from "./workloads/w4.js";
import { w5 } from "./workloads/w5.js";
import type { Workload } from "./workloads/workload.js";

/** Every workload the benchmark knows, by name. */
export const workloads: ReadonlyMap<string, Workload> = new Map(
  [w1, w1Seq, w2, w3, w4, w5].map((workload) => [workload.name, workload]),
);

/** The workloads run when `--workload` is not given (W2–W5 are chosen explicitly or with `all`). */
export const defaultWorkloads: readonly string[] = ["W1", "W1-seq"];
