import { type BenchReport, formatNumber, type ResultRow } from "./runner.js";

const headers = ["workload", "mode", "metric", "median", "min–max"] as const;

/** The report as a plain-text table: one line per figure, in measurement order. */
export function formatTable(report: BenchReport): string {
  const rows = report.results.map(cellsOf);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i >= 3 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const { machine, config } = report;
  return [
    `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}`,
    `n=${config.n} runs=${config.runs} repeat=${config.repeat} wait=${config.wait}${modeSettings(report)} (${report.durationS.toFixed(1)} s)`,
    "",
    line(headers),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
  ].join("\n");
}

function cellsOf(row: ResultRow): string[] {
  const spread = row.samples.length > 1 ? `${formatNumber(row.min)}–${formatNumber(row.max)}` : "";
  return [row.workload, row.mode, row.metric, formatNumber(row.median), spread];
}

function modeSettings({ config }: BenchReport): string {
  const worker = config.modes.includes("sidecar-grpc-worker")
    ? ` worker-concurrency=${config.workerConcurrency}`
    : "";
  const libsql = config.modes.includes("libsql-remote")
    ? ` libsql-latency-ms=${config.libsqlLatencyMs}`
    : "";
  return `${worker}${libsql}`;
}
