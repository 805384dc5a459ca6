#!/usr/bin/env node
// The benchmark CLI (`pnpm bench`): `node apps/bench/dist/main.js --help`. See cli.ts.
import { runBenchCli } from "./cli.js";
import { removeTempDirsSync } from "./runner.js";

// An interrupted benchmark must not leave its temporary databases behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    removeTempDirsSync();
    process.exit(130);
  });
}

process.exitCode = await runBenchCli(process.argv.slice(2));
