// How the benchmark and a workload child process talk. The child writes one JSON message per
// stdout line, prefixed with "@@ " (other output is ignored); the benchmark answers with
// commands, one per stdin line:
//
//   child: {event: "ready"}                     connected and warmed up
//   bench: go                                   (after reading both processes' CPU time)
//   child: {event: "measured", figures, orchestrations}
//   child: {event: "counted", completed}        (unmeasured check of every result)
//   bench: stop                                 (after reading the peak RSS)
//   child: stops its worker and client, exits 0
//
// A child that fails writes {event: "error", error} and exits 1; one whose stdin closes (the
// benchmark is gone) exits at once.
import type { Figures } from "../modes/bench-mode.js";

/** A message of a workload child. */
export type ChildMessage =
  | { readonly event: "ready" }
  | { readonly event: "measured"; readonly figures: Figures; readonly orchestrations: number }
  | { readonly event: "counted"; readonly completed: number }
  | { readonly event: "error"; readonly error: string };

/** A command of the benchmark to a workload child. */
export type ParentCommand = "go" | "stop";

/** The prefix of message lines. */
export const messagePrefix = "@@ ";
