#!/usr/bin/env node
// Summarises sidecar CPU profiles written by `bench --sidecar-cpu-prof <dir>`:
//   node apps/bench/dist/cpu-profile-main.js [--top 25] [--whole] <dir or .cpuprofile files>…
// Self time per package, file and function. Unless --whole is given, only the samples within
// the measured part of the run count (from the profile's `.window.json`, written by the bench).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type ProfileWindow,
  readCpuProfile,
  type SelfTime,
  summarizeProfile,
} from "./cpu-profile.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "25" },
    whole: { type: "boolean", default: false },
  },
});
const top = Number(values.top);

const files = positionals.flatMap((path) =>
  statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((name) => name.endsWith(".cpuprofile"))
        .sort()
        .map((name) => join(path, name))
    : [path],
);
if (files.length === 0) {
  console.error("usage: cpu-profile-main.js [--top N] [--whole] <dir or .cpuprofile files>…");
  process.exit(2);
}

const table = (title: string, rows: readonly SelfTime[]) => [
  `  ${title}`,
  ...rows
    .slice(0, top)
    .map(
      (row) =>
        `    ${row.selfMs.toFixed(0).padStart(7)} ms ${(row.share * 100).toFixed(1).padStart(5)} %  ${row.name}`,
    ),
];

for (const file of files) {
  const windowFile = file.replace(/\.cpuprofile$/, ".window.json");
  let window: (ProfileWindow & { label?: string }) | undefined;
  if (!values.whole && existsSync(windowFile)) {
    window = JSON.parse(readFileSync(windowFile, "utf8")) as ProfileWindow & { label?: string };
  }
  const summary = summarizeProfile(readCpuProfile(file), window);
  console.log(
    [
      `${file}${window?.label === undefined ? "" : ` (${window.label})`}`,
      `  ${summary.totalMs.toFixed(0)} ms busy, ${summary.idleMs.toFixed(0)} ms idle${window === undefined ? " (whole profile)" : " in the measured part"}`,
      ...table("self time by package", summary.byPackage),
      ...table("self time by file", summary.byFile),
      ...table("self time by function", summary.byFunction),
      "",
    ].join("\n"),
  );
}
