#!/usr/bin/env node
// The benchmark CLI (`pnpm bench`): `node apps/bench/dist/main.js --help`. See cli.ts.
import { runBenchCli } from "./cli.js";
import { removeTempDirsSync } from "./runner.js";
import { killChildrenSync } from "./sidecar/child-processes.js";

// An interrupted benchmark must not leave its child processes or temporary databases behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killChildrenSync();
    removeTempDirsSync();
    process.exit(130);
  });
}

process.exitCode = await runBenchCli(process.argv.slice(2));
