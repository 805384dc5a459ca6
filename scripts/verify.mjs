// Everything CI checks, in order: generated code is current, lint, build, typecheck, tests.
// The last line is always the plain `N passed, N failed` summary.
import { spawnSync } from "node:child_process";

function run(label, command, args) {
  console.log(`\n== ${label}`);
  const result = spawnSync(command, args, { stdio: "inherit", env: process.env });
  return result.status ?? 1;
}

function fail(step) {
  console.log(`verify: ${step} failed`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

if (
  run("generate", "pnpm", ["exec", "turbo", "run", "generate", "--output-logs=errors-only"]) !== 0
) {
  fail("generate");
}
const drift = spawnSync("git", ["status", "--porcelain", "--", "packages/*/src/gen"], {
  encoding: "utf8",
});
if (drift.status === 0 && drift.stdout.trim() !== "") {
  console.log("Generated code differs from the checked-in copy; run `./dev generate` and commit:");
  console.log(drift.stdout);
  fail("generated-code drift check");
}
if (run("lint", "pnpm", ["exec", "biome", "ci", "."]) !== 0) fail("lint");
if (run("build", "pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"]) !== 0)
  fail("build");
if (
  run("typecheck", "pnpm", ["exec", "turbo", "run", "typecheck", "--output-logs=errors-only"]) !== 0
) {
  fail("typecheck");
}
console.log("\n== test");
const test = spawnSync("node", ["scripts/test.mjs"], { stdio: "inherit", env: process.env });
process.exit(test.status ?? 1);
