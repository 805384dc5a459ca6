import { w1 } from "./workloads/w1.js";
import { w1Seq } from "./workloads/w1-seq.js";
import type { Workload } from "./workloads/workload.js";

/** Every workload the benchmark knows, by name (add W2–W5 here). */
export const workloads: ReadonlyMap<string, Workload> = new Map(
  [w1, w1Seq].map((workload) => [workload.name, workload]),
);
