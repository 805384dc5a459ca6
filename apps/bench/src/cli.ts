import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type BenchConfig, parseBenchArgs, usage } from "./config.js";
import { formatTable } from "./report.js";
import { type BenchReport, runBench } from "./runner.js";

/**
 * Runs the benchmark CLI on `args`: progress on stderr, the table on stdout, the JSON report to
 * `--json` (default `.bench/bench-<time>.json`). Returns the exit code: 0, 1 when a run
 * failed, 2 for a bad command line.
 */
export async function runBenchCli(args: readonly string[]): Promise<number> {
  let config: BenchConfig | "help";
  try {
    config = parseBenchArgs(args);
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${usage()}`);
    return 2;
  }
  if (config === "help") {
    console.log(usage());
    return 0;
  }
  let report: BenchReport;
  try {
    report = await runBench(config, (line) => console.error(line));
  } catch (error) {
    console.error(`error: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
  console.log(formatTable(report));
  const path = resolve(
    config.jsonPath ?? `.bench/bench-${report.machine.date.replace(/[:.]/g, "-")}.json`,
  );
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nJSON report: ${path}`);
  return 0;
}
