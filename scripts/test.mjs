// Builds the workspace, runs every vitest project once, and ends with the plain summary line
// `N passed, N failed[, N skipped]` that the project's CI reads (vitest's own summary is not in
// that form). Extra arguments are passed to vitest (e.g. a file filter).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function run(command, args) {
  const result = spawnSync(command, args, { stdio: "inherit", env: process.env });
  return result.status ?? 1;
}

const build = run("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"]);
if (build !== 0) {
  console.log("build failed");
  console.log("0 passed, 1 failed");
  process.exit(build);
}

const dir = mkdtempSync(join(tmpdir(), "durabletask-test-"));
const report = join(dir, "report.json");
const status = run("pnpm", [
  "exec",
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
]);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed = json.numPassedTests;
  // A failed test counts once. vitest also counts each enclosing suite (the file and every
  // describe block) as failed, so suites are not added; only a file that failed with no failed
  // test of its own (an import error, a failing hook) adds one.
  const failedFiles = (json.testResults ?? []).filter(
    (file) =>
      file.status === "failed" &&
      !(file.assertionResults ?? []).some((test) => test.status === "failed"),
  );
  failed = json.numFailedTests + failedFiles.length;
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
} catch {
  failed = Math.max(failed, 1);
}
rmSync(dir, { recursive: true, force: true });
if (status !== 0 && failed === 0) failed = 1;
if (passed === 0 && failed === 0) failed = 1; // a run that executed no test is not a pass
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
