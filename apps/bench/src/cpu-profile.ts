// Where a V8 CPU profile (`node --cpu-prof`, a .cpuprofile file) spends its time: self time per
// function, per file and per package, optionally within a time window.
import { readFileSync } from "node:fs";

/** The parts of a `.cpuprofile` (Chrome DevTools Profiler.Profile) this module reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
  }[];
  /** Microseconds on the profiled process's monotonic clock. */
  readonly startTime: number;
  readonly endTime: number;
  /** The node id of each sample. */
  readonly samples?: readonly number[];
  /** Microseconds from the previous sample (from `startTime` for the first). */
  readonly timeDeltas?: readonly number[];
}

/** A time window on the profiled process's monotonic clock, in microseconds. */
export interface ProfileWindow {
  readonly startUs: number;
  readonly endUs: number;
}

/** Self time of one function, file or package. */
export interface SelfTime {
  readonly name: string;
  readonly selfMs: number;
  /** Share of {@link ProfileSummary.totalMs}. */
  readonly share: number;
}

/** Where a profile's time went, largest first. */
export interface ProfileSummary {
  /** Sampled busy time in the window: everything but V8's `(idle)` pseudo-frame. */
  readonly totalMs: number;
  /** Sampled idle time in the window (not in the tables). */
  readonly idleMs: number;
  readonly byFunction: readonly SelfTime[];
  readonly byFile: readonly SelfTime[];
  readonly byPackage: readonly SelfTime[];
}

/** Reads a `.cpuprofile` file. */
export function readCpuProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
}

/**
 * Self time per function, file and package of `profile`, counting only the samples taken
 * within `window` when one is given. Each sample is charged the time until the next one.
 */
export function summarizeProfile(profile: CpuProfile, window?: ProfileWindow): ProfileSummary {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let at = profile.startTime;
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0;
    const durationUs = Math.max(0, deltas[i + 1] ?? 0);
    if (window !== undefined && (at < window.startUs || at > window.endUs)) continue;
    const frame = frames.get(samples[i] as number);
    if (frame === undefined) continue;
    if (frame.url === "" && frame.functionName === "(idle)") {
      idleUs += durationUs;
      continue;
    }
    const file = shortFile(frame.url);
    const fn =
      frame.url === ""
        ? frame.functionName
        : `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    add(byFunction, fn, durationUs);
    add(byFile, file === "" ? frame.functionName : file, durationUs);
    add(byPackage, packageOf(frame.url, frame.functionName), durationUs);
    totalUs += durationUs;
  }
  const rows = (map: Map<string, number>): SelfTime[] =>
    [...map]
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs);
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    byFunction: rows(byFunction),
    byFile: rows(byFile),
    byPackage: rows(byPackage),
  };
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

/** A file's URL, shortened: `pkg/path` inside node_modules, `packages/x/…` in the repository. */
export function shortFile(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const modules = path.lastIndexOf("/node_modules/");
  if (modules >= 0) return path.slice(modules + "/node_modules/".length);
  const repo = /\/(packages|apps)\/[^/]+\/.*$/.exec(path);
  return repo === null ? path : repo[0].slice(1);
}

/**
 * The package a frame belongs to: the npm package inside node_modules, `@durabletask/<name>`
 * for this repository's packages, `node:internal` for Node's own JavaScript, and V8's
 * pseudo-frames (`(garbage collector)`, `(program)`, `(idle)`) by name.
 */
export function packageOf(url: string, functionName: string): string {
  if (url === "") return functionName;
  if (url.startsWith("node:")) return "node:internal";
  const path = url.replace(/^file:\/\//, "");
  const modules = path.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const [scope = "", name = ""] = path.slice(modules + "/node_modules/".length).split("/");
    return scope.startsWith("@") ? `${scope}/${name}` : scope;
  }
  const repo = /\/(packages|apps)\/([^/]+)\//.exec(path);
  return repo === null ? path : `@durabletask/${repo[2]}`;
}
